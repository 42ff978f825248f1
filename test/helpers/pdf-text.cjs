// Prints the text of the PDF read from stdin. Run in its own node process: pdf.js loads its worker
// with a dynamic import(), which jest's module sandbox does not allow.
'use strict';
const { PDFParse } = require('pdf-parse');

const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const parser = new PDFParse({ data: new Uint8Array(Buffer.concat(chunks)) });
  try {
    const result = await parser.getText();
    process.stdout.write(JSON.stringify({ text: result.text, pages: result.total }));
  } catch (err) {
    process.stderr.write(String(err && err.stack ? err.stack : err));
    process.exitCode = 1;
  } finally {
    await parser.destroy();
  }
});
