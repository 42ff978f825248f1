import { Router, type Request, type Response } from 'express';
import { toTelHref, type Lang } from '../content';
import { actorOf } from '../auth';
import { getPersonContactContext, ownWorkplaces } from '../schools';
import { notFound } from '../../shared/errors';
import { setFlash } from '../../shared/flash';
import { parseForm, type FieldErrors } from '../../shared/validation';
import { certificateRouter } from './certificate.routes';
import { findOwnCertificateCode } from './certificate.service';
import { getPlayState, startAttempt, startUpdateAttempt, submitMove } from './play.service';
import { getModuleVersion } from './training.content';
import { formatLocalDate } from '../assignments';
import { moveSchema, parseSlug, parseWorkingAtNext, PLAY_NOTICES, workingAtSchema } from './training.schemas';
import { getModuleOverview, getTrainingOverview } from './training.service';
import { counselNotice, createRenderer, formatDate, moduleHeader, resultsView, stepView, type Renderer } from './training.view';
import { getCounselReview, getCounselReviews, reviewOf } from '../counsel-reviews';
import type { UpdateOffer } from './training.update';
import { rememberWorkingAt, workingAtOf, workingAtView } from './working-at';

export const trainingRouter = Router();
// Registered first: /training/certificates/:code.pdf must not be read as a module slug.
trainingRouter.use(certificateRouter);

/**
 * The content filled with the learner's contacts: the school they are working at (their choice in this session,
 * else their first active school), else its region's, else the district's. No query of its own (contact-tree memo).
 */
async function rendererFor(req: Request, res: Response): Promise<{ r: Renderer; timeZone: string }> {
  const lang = res.locals.lang as Lang;
  const district = await getPersonContactContext(actorOf(req), workingAtOf(req));
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

/** The person's schools for the "Working at" form: only people with more than one school are asked (one query, not per step). */
async function workplacesOf(req: Request) {
  const actor = actorOf(req);
  return actor.schoolIds.length > 1 ? ownWorkplaces(actor) : [];
}

async function renderList(req: Request, res: Response, status: number, errors: FieldErrors = {}) {
  const actor = actorOf(req);
  const [rows, { r, timeZone }, places] = await Promise.all([getTrainingOverview(actor), rendererFor(req, res), workplacesOf(req)]);
  res.status(status).render('training/index', {
    title: res.locals.t('training.list.title'),
    errors,
    workingAt: places.length > 1 ? workingAtView(places, workingAtOf(req), '/training') : undefined,
    rows: rows.map((row) => ({
      ...row,
      title: r.plain(row.title),
      summary: r.plain(row.summary),
      completedOn: row.completion ? formatDate(row.completion.completedAt, r.lang, timeZone) : undefined,
      dueOn: row.assignment ? formatLocalDate(row.assignment.dueDate, r.lang) : undefined,
      update: updateView(row.update, r),
    })),
  });
}

trainingRouter.get('/training', async (req, res) => {
  await renderList(req, res, 200);
});

/**
 * "Working at": the school whose contacts the training and card name, kept in the session (working-at.ts).
 * A school that is not one of the person's active schools — another school of the district, another district's,
 * or no school at all — gets the same 422, so the answer tells nothing about ids outside their own.
 */
trainingRouter.post('/training/working-at', async (req, res) => {
  const next = parseWorkingAtNext(req.body?.next);
  const form = parseForm(workingAtSchema, req.body);
  const places = await ownWorkplaces(actorOf(req));
  if (!form.ok || !places.some((place) => place.id === form.data.school)) {
    const errors = { school: 'workingAt.errors.notYours' };
    return next.cardSlug ? renderCard(req, res, next.cardSlug, next.cardVersion, 422, errors) : renderList(req, res, 422, errors);
  }
  rememberWorkingAt(req, form.data.school);
  setFlash(req, 'workingAt.saved');
  res.redirect(303, next.path);
});

trainingRouter.get('/training/:slug', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const actor = actorOf(req);
  const [{ module, row }, { r, timeZone }, reviews] = await Promise.all([getModuleOverview(actor, slug), rendererFor(req, res), getCounselReviews(actor.districtId)]);
  const header = moduleHeader(module, r);
  res.render('training/overview', {
    title: header.title,
    header,
    reviewNotice: counselNotice(reviewOf(reviews, module.slug, module.version), r.lang, res.locals.t),
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
  await startAttempt(actorOf(req), slug, workingAtOf(req));
  res.redirect(303, `/training/${slug}/play`);
});

/** Starts (or resumes) the update of the latest version; without an update to offer, back to the module page. */
trainingRouter.post('/training/:slug/update', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const started = await startUpdateAttempt(actorOf(req), slug, workingAtOf(req));
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
  // The school the person is working at: where a new completion is recorded if the attempt's school is no longer theirs.
  const result = await submitMove(actorOf(req), slug, input.data, String(req.id), workingAtOf(req));
  if (result === 'choose') return renderPlay(req, res, slug, 422, { choice: 'training.play.chooseOne' });
  if (result === 'none') return res.redirect(303, `/training/${slug}`);
  res.redirect(303, result === 'stale' ? `/training/${slug}/play?notice=stale` : `/training/${slug}/play`);
});

/**
 * The card's school: `?school=` (a printable card for one of the person's schools: anything else is not found),
 * else the one they are working at.
 */
function cardSchool(req: Request, places: { id: string }[], requested: unknown): string | undefined {
  if (requested === undefined) return workingAtOf(req);
  if (typeof requested !== 'string' || !places.some((place) => place.id === requested)) throw notFound();
  return requested;
}

async function renderCard(req: Request, res: Response, slug: string, version: number | undefined, status: number, errors: FieldErrors = {}) {
  const module = getModuleVersion(slug, version);
  const lang = res.locals.lang as Lang;
  const actor = actorOf(req);
  // ?school= is checked against all the person's active schools, also for someone with one school.
  const places = req.query.school !== undefined || actor.schoolIds.length > 1 ? await ownWorkplaces(actor) : [];
  const chosen = cardSchool(req, places, status === 200 ? req.query.school : undefined);
  const [district, review] = await Promise.all([getPersonContactContext(actor, chosen), getCounselReview(actor.districtId, module.slug, module.version)]);
  const r = createRenderer(district.content[lang], lang);
  const cardPath = `/training/${slug}/card${version ? `?version=${version}` : ''}`;
  const workingAt = places.length > 1 ? workingAtView(places, chosen, cardPath) : undefined;
  res.status(status).render('training/card', {
    reviewNotice: counselNotice(review, lang, res.locals.t),
    title: `${r.plain(module.content.title)} · ${res.locals.t('training.card.title')}`,
    errors,
    workingAt,
    schoolName: workingAt?.places.find((place) => place.id === workingAt.current)?.name,
    header: moduleHeader(module, r),
    takeawaysHtml: module.content.takeaways.map((takeaway) => r.block(takeaway)),
    districtName: district.districtName,
    // Only the contacts filled in (at the school, its region or the district): the neutral defaults would print as noise on a card.
    // telHref: one tap to call from a phone; undefined (plain text) when the number cannot be dialled as typed.
    // The name as it reads in the page's language (the Spanish name when the district gave one), as in the content.
    contacts: Object.entries(district.contacts).map(([key, contact]) => ({ key, name: (lang === 'es' && contact?.nameEs) || contact?.name || '', phone: contact?.phone ?? '', telHref: toTelHref(contact?.phone ?? '') })),
    policyReference: district.content[lang].policyReference,
  });
}

/** The printable quick-reference card (the front-office wall): the takeaways with the reader's own contacts (school > region > district). */
trainingRouter.get('/training/:slug/card', async (req, res) => {
  const slug = parseSlug(req.params.slug);
  const version = typeof req.query.version === 'string' && /^[1-9]\d{0,5}$/.test(req.query.version) ? Number(req.query.version) : undefined;
  await renderCard(req, res, slug, version, 200);
});

