import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * A PDF's text and page count, read back with pdf-parse in a child Node process
 * (pdf.js loads its worker with a dynamic import() that Jest's module sandbox refuses).
 */
export async function pdfText(bytes: Buffer): Promise<{ text: string; pages: number }> {
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Error(`not a PDF (starts with ${JSON.stringify(bytes.subarray(0, 20).toString('latin1'))})`);
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(__dirname, 'pdf-text.cjs')], { maxBuffer: 20 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`pdf-parse failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as { text: string; pages: number });
    });
    child.stdin?.end(bytes);
  });
}
