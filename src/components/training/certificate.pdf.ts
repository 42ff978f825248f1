import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { TFunction } from 'i18next';
import type { Lang } from '../content';
import type { CounselReviewView } from '../counsel-reviews';
import type { CertificateData } from './certificate.service';
import { counselNotice, formatDate } from './training.view';

// DejaVu covers every character of both languages (and names from anywhere); without it the standard
// Helvetica (WinAnsi) still renders Spanish accents.
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const DEJAVU_BOLD = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const FONTS = existsSync(DEJAVU) && existsSync(DEJAVU_BOLD) ? { regular: DEJAVU, bold: DEJAVU_BOLD } : { regular: 'Helvetica', bold: 'Helvetica-Bold' };

/** The certificate as a one-page landscape PDF with a QR code of its public verification link. */
/** `counselReview`: the district's record of counsel's review of the certificate's version, if any (the notice says which). */
export async function renderCertificatePdf(data: CertificateData, counselReview: CounselReviewView | undefined, lang: Lang, verifyUrl: string, t: TFunction): Promise<Buffer> {
  const qr = await QRCode.toBuffer(verifyUrl, { type: 'png', errorCorrectionLevel: 'M', margin: 1, width: 240 });
  const title = data.title[lang];
  const doc = new PDFDocument({
    size: 'LETTER',
    layout: 'landscape',
    margin: 54,
    info: { Title: `${t('training.certificate.heading')}: ${title}`, Author: t('common.appName'), Subject: data.name },
    lang,
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.registerFont('regular', FONTS.regular);
  doc.registerFont('bold', FONTS.bold);
  const width = doc.page.width - 108;
  doc.lineWidth(2).strokeColor('#1d3557').rect(36, 36, doc.page.width - 72, doc.page.height - 72).stroke();

  doc.moveDown(1.5);
  doc.font('bold').fontSize(30).fillColor('#1d3557').text(t('training.certificate.heading'), { align: 'center', width });
  doc.moveDown(0.8);
  doc.font('regular').fontSize(14).fillColor('#111827').text(t('training.certificate.certifies'), { align: 'center', width });
  doc.moveDown(0.4);
  doc.font('bold').fontSize(26).text(data.name, { align: 'center', width });
  doc.moveDown(0.4);
  doc.font('regular').fontSize(14).text(t('training.certificate.completed'), { align: 'center', width });
  doc.moveDown(0.4);
  doc.font('bold').fontSize(18).text(title, { align: 'center', width });
  doc.moveDown(0.6);
  const date = formatDate(data.completedAt, lang, data.timeZone);
  doc
    .font('regular')
    .fontSize(12)
    .text(
      data.facilitatedBy !== undefined
        ? t('sessions.certificate.details', { version: data.moduleVersion, date })
        : data.updatedFrom !== undefined
          ? t('updates.certificate.details', { version: data.moduleVersion, from: data.updatedFrom, date, score: data.score })
          : t('training.certificate.details', { version: data.moduleVersion, date, score: data.score }),
      { align: 'center', width },
    );
  if (data.facilitatedBy) doc.text(t('sessions.certificate.facilitator', { name: data.facilitatedBy }), { align: 'center', width });
  doc.text(data.districtName, { align: 'center', width });

  const qrSize = 110;
  const bottom = doc.page.height - 54 - qrSize;
  doc.image(qr, 72, bottom, { width: qrSize, height: qrSize });
  doc
    .fontSize(10)
    .fillColor('#111827')
    .text(t('training.certificate.code', { code: data.code }), 72 + qrSize + 16, bottom + 10, { width: width - qrSize - 40 })
    .text(t('training.certificate.verifyAt', { url: verifyUrl }), { width: width - qrSize - 40 })
    .moveDown(0.5)
    .fillColor('#374151')
    .text(counselNotice(counselReview, lang, t), { width: width - qrSize - 40 });
  doc.end();
  return done;
}
