import { Router, type Request, type Response } from 'express';
import { toTelHref, type Lang } from '../content';
import { actorOf } from '../auth';
import { getPersonContactContext } from '../schools';
import { certificateRouter } from './certificate.routes';
import { findOwnCertificateCode } from './certificate.service';
import { getPlayState, startAttempt, startUpdateAttempt, submitMove } from './play.service';
import { getModuleVersion } from './training.content';
import { formatLocalDate } from '../assignments';
import { moveSchema, parseSlug, PLAY_NOTICES } from './training.schemas';
import { getModuleOverview, getTrainingOverview } from './training.service';
import { counselNotice, createRenderer, formatDate, moduleHeader, resultsView, stepView, type Renderer } from './training.view';
import { getCounselReview } from '../counsel-reviews';
import type { UpdateOffer } from './training.update';

export const trainingRouter = Router();
// Registered first: /training/certificates/:code.pdf must not be read as a module slug.
trainingRouter.use(certificateRouter);

/** The content filled with the learner's contacts: their first active school's, else its region's, else the district's. */
async function rendererFor(req: Request, res: Response): Promise<{ r: Renderer; timeZone: string }> {
  const lang = res.locals.lang as Lang;
  const district = await getPersonContactContext(actorOf(req));
  return { r: createRenderer(district.content[lang], lang), timeZone: district.timeZone };
}

/** The update offer as the list and the module page print it (the note is the content renderer's HTML). */
function updateView(offer: UpdateOffer | undefined, r: Renderer) {
  if (!offer) return undefined;
  return {
    version: offer.version,
    from: offer.from,
    noteHtml: r.block(offer.note),
    minutes: offer.estimatedMinutes,
    scenarioCount: offer.scenarios.length,
    scenarioTitles: offer.scenarios.map((scenario) => r.plain(scenario.title)),
  };
}

trainingRouter.get('/training', async (req, res) => {
  const actor = actorOf(req);
  const [rows, { r, timeZone }] = await Promise.all([getTrainingOverview(actor), rendererFor(req, res)]);
  res.render('training/index', {
    title: res.locals.t('training.list.title'),
    rows: rows.map((row) => ({
      ...row,
      title: r.plain(row.title),
      summary: r.plain(row.summary),
      completedOn: row.completion ? formatDate(row.completion.completedAt, r.lang, timeZone) : undefined,
      dueOn: row.assignment ? formatLocalDate(row.assignment.dueDate, r.lang) : undefined,
      update: updateView(row.update, r),
    })),
  });
});

trainingRouter.get('/training/:slug', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const actor = actorOf(req);
  const [{ module, row }, { r, timeZone }] = await Promise.all([getModuleOverview(actor, slug), rendererFor(req, res)]);
  const header = moduleHeader(module, r);
  res.render('training/overview', {
    title: header.title,
    header,
    reviewNotice: counselNotice(await getCounselReview(actor.districtId, module.slug, module.version), r.lang, res.locals.t),
    row,
    completedOn: row.completion ? formatDate(row.completion.completedAt, r.lang, timeZone) : undefined,
    update: updateView(row.update, r),
    introductionHtml: r.block(module.content.introduction),
    sources: module.content.sources,
    scenarios: module.content.scenarios.map((scenario) => r.plain(scenario.title)),
  });
});

trainingRouter.post('/training/:slug/start', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  await startAttempt(actorOf(req), slug);
  res.redirect(303, `/training/${slug}/play`);
});

/** Starts (or resumes) the update of the latest version; without an update to offer, back to the module page. */
trainingRouter.post('/training/:slug/update', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const started = await startUpdateAttempt(actorOf(req), slug);
  res.redirect(303, started ? `/training/${slug}/play` : `/training/${slug}`);
});

async function renderPlay(req: Request, res: Response, slug: string, status: number, errors: Record<string, string> = {}): Promise<void> {
  const actor = actorOf(req);
  getModuleVersion(slug); // 404 for a module that does not exist, before looking for an attempt
  const [state, { r, timeZone }] = await Promise.all([getPlayState(actor, slug), rendererFor(req, res)]);
  if (!state) return res.redirect(303, `/training/${slug}`);
  const { module, content, attempt } = state;
  // An update attempt counts its own scenarios ("Scenario 1 of 1").
  const header = { ...moduleHeader(module, r), scenarioCount: content.scenarios.length };
  const update = attempt.updateFrom !== undefined ? { from: attempt.updateFrom, version: module.version } : undefined;
  const notice = typeof req.query.notice === 'string' && PLAY_NOTICES.includes(req.query.notice) ? req.query.notice : undefined;
  if (attempt.position.phase === 'results') {
    const certificateCode = attempt.status === 'passed' ? await findOwnCertificateCode(actor, slug, module.version) : undefined;
    return res.status(status).render('training/results', {
      title: header.title,
      header,
      results: resultsView(module, attempt, r),
      finishedOn: attempt.finishedAt ? formatDate(attempt.finishedAt, r.lang, timeZone) : undefined,
      certificateCode,
      notice,
      update,
    });
  }
  res.status(status).render('training/play', { title: header.title, header, view: stepView(module, attempt, r, content), errors, notice, update });
}

trainingRouter.get('/training/:slug/play', async (req, res) => {
  await renderPlay(req, res, parseSlug(req.params.slug), 200);
});

trainingRouter.post('/training/:slug/play', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  getModuleVersion(slug);
  const input = moveSchema.safeParse(req.body);
  // An unreadable step cannot be checked against the attempt: answer with the current node, change nothing.
  if (!input.success) return res.redirect(303, `/training/${slug}/play?notice=stale`);
  const result = await submitMove(actorOf(req), slug, input.data, String(req.id));
  if (result === 'choose') return renderPlay(req, res, slug, 422, { choice: 'training.play.chooseOne' });
  if (result === 'none') return res.redirect(303, `/training/${slug}`);
  res.redirect(303, result === 'stale' ? `/training/${slug}/play?notice=stale` : `/training/${slug}/play`);
});

/** The printable quick-reference card (the front-office wall): the takeaways with the reader's own contacts (school > region > district). */
trainingRouter.get('/training/:slug/card', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const version = typeof req.query.version === 'string' && /^[1-9]\d{0,5}$/.test(req.query.version) ? Number(req.query.version) : undefined;
  const module = getModuleVersion(slug, version);
  const lang = res.locals.lang as Lang;
  const actor = actorOf(req);
  const [district, review] = await Promise.all([getPersonContactContext(actor), getCounselReview(actor.districtId, module.slug, module.version)]);
  const r = createRenderer(district.content[lang], lang);
  res.render('training/card', {
    reviewNotice: counselNotice(review, lang, res.locals.t),
    title: `${r.plain(module.content.title)} · ${res.locals.t('training.card.title')}`,
    header: moduleHeader(module, r),
    takeawaysHtml: module.content.takeaways.map((takeaway) => r.block(takeaway)),
    districtName: district.districtName,
    // Only the contacts filled in (at the school, its region or the district): the neutral defaults would print as noise on a card.
    // telHref: one tap to call from a phone; undefined (plain text) when the number cannot be dialled as typed.
    // The name as it reads in the page's language (the Spanish name when the district gave one), as in the content.
    contacts: Object.entries(district.contacts).map(([key, contact]) => ({ key, name: (lang === 'es' && contact?.nameEs) || contact?.name || '', phone: contact?.phone ?? '', telHref: toTelHref(contact?.phone ?? '') })),
    policyReference: district.content[lang].policyReference,
  });
});

