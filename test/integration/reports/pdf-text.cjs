// Extracts a PDF's text in a plain Node process: pdf.js loads its worker with a dynamic import(),
// which Jest's module sandbox does not allow. Reads the PDF on stdin, writes the text to stdout.
const { PDFParse } = require('pdf-parse');

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', async () => {
  const parser = new PDFParse({ data: new Uint8Array(Buffer.concat(chunks)) });
  try {
    const result = await parser.getText();
    process.stdout.write(result.text);
  } finally {
    await parser.destroy();
  }
});
