import { Router, type Response } from 'express';
import type { Config } from '../../config';
import { sharedRateLimit } from '../../shared/rate-limit';
import type { Lang } from '../content';
import { actorOf } from '../auth';
import { translator } from '../../shared/i18n';
import { getCertificateForDownload, normalizeCertificateCode, verifyCertificate } from './certificate.service';
import { renderCertificatePdf } from './certificate.pdf';
import { getCounselReview } from '../counsel-reviews';
import { formatDate } from './training.view';

/** Signed in (mounted inside the training router): the certificate PDF. */
export const certificateRouter = Router();

certificateRouter.get('/training/certificates/:code.pdf', async (req, res) => {
  const actor = actorOf(req);
  const certificate = await getCertificateForDownload(actor, req.params.code);
  // The learner's own copy follows the language they are using; anyone else gets the learner's language.
  const lang: Lang = certificate.ownerId === actor.userId ? (res.locals.lang as Lang) : certificate.ownerLanguage;
  const verifyUrl = `${String(res.locals.baseUrl)}/verify/${certificate.code}`;
  const review = await getCounselReview(certificate.districtId, certificate.moduleSlug, certificate.moduleVersion);
  const pdf = await renderCertificatePdf(certificate, review, lang, verifyUrl, translator(lang));
  res.set({
    'Content-Type': 'application/pdf',
    'Content-Disposition': `inline; filename="certificate-${certificate.code}.pdf"`,
    'Cache-Control': 'private, no-store',
  });
  res.send(pdf);
});

function noIndex(res: Response): void {
  res.set({ 'X-Robots-Tag': 'noindex, nofollow', 'Cache-Control': 'no-store' });
}

/** Public: certificate verification works without signing in (a checker has no account). */
export function verifyRouter(config: Pick<Config, 'sessionSecret'>): Router {
  const router = Router();

  // Light per-IP limit: codes are unguessable (128 bits), this only keeps scrapers from hammering the page.
  // Counted in MongoDB (shared/rate-limit.ts): one budget across app instances.
  const verifyLimiter = sharedRateLimit({
    name: 'verify',
    secret: config.sessionSecret,
    windowMs: 60 * 1000,
    limit: 60,
  });

  router.get('/verify', verifyLimiter, (req, res) => {
    noIndex(res);
    const code = normalizeCertificateCode(String(req.query.code ?? '').replace(/[\s-]/g, ''));
    if (code) return res.redirect(303, `/verify/${code}`);
    res.status(req.query.code === undefined ? 200 : 422).render('verify/form', {
      title: res.locals.t('verify.form.title'),
      values: { code: typeof req.query.code === 'string' ? req.query.code : '' },
      errors: req.query.code === undefined ? {} : { code: 'verify.form.invalid' },
    });
  });

  router.get('/verify/:code', verifyLimiter, async (req, res) => {
    noIndex(res);
    const certificate = await verifyCertificate(req.params.code);
    if (!certificate) return res.status(404).render('verify/not-found', { title: res.locals.t('verify.notFound.title') });
    const lang = res.locals.lang as Lang;
    res.render('verify/show', {
      title: res.locals.t('verify.title'),
      certificate: {
        name: certificate.name,
        title: certificate.title[lang],
        version: certificate.moduleVersion,
        date: formatDate(certificate.completedAt, lang, certificate.timeZone),
        isRevoked: certificate.isRevoked,
        isFacilitated: certificate.facilitatedBy !== undefined,
        facilitatedBy: certificate.facilitatedBy,
        updatedFrom: certificate.updatedFrom,
        code: certificate.code,
      },
    });
  });

  return router;
}
