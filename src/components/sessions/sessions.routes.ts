import { Router, type Request, type Response } from 'express';
import type { Lang } from '../content';
import { actorOf, requireRole } from '../auth';
import { formatLocalDate } from '../assignments';
import { getSchoolContactContext } from '../schools';
import { counselNotice, createRenderer } from '../training/training.view';
import { getCounselReview } from '../counsel-reviews';
import { JOB_TITLES } from '../users';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { notFound } from '../../shared/errors';
import { buildPresentation } from './presentation';
import { canFinishOn, finishSession } from './session-finish';
import { discardSession } from './session-discard';
import { attendanceQuery, attendanceSchema, discardSchema, finishSchema, newSessionSchema, presentQuery, schoolParams, sessionParams } from './sessions.schemas';
import { attendeeList, createSession, districtToday, getAttendance, getSession, listSessionModules, listSessions, saveAttendance, sessionModule, sessionSchool } from './sessions.service';

export const sessionsRouter = Router();
const leaders = requireRole('principal', 'district_admin');
const base = (schoolId: string) => `/school/${schoolId}/sessions`;
const helpers = { formatDate: formatLocalDate, jobTitles: JOB_TITLES };

sessionsRouter.get('/school/:schoolId/sessions', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  const { school, sessions } = await listSessions(actorOf(req), schoolId);
  res.render('sessions/list', { title: res.locals.t('sessions.list.title', { school: school.name }), school, sessions, ...helpers });
});

async function renderNew(req: Request, res: Response, schoolId: string, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>) {
  const actor = actorOf(req);
  const school = await sessionSchool(actor, schoolId);
  const { today } = await districtToday(actor);
  res.status(status).render('sessions/new', {
    title: res.locals.t('sessions.new.title'),
    school,
    modules: listSessionModules(),
    today,
    errors,
    values: values ?? { sessionDate: today },
  });
}

sessionsRouter.get('/school/:schoolId/sessions/new', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  await renderNew(req, res, schoolId, 200);
});

function enteredNew(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>;
  return { module: typeof b.module === 'string' ? b.module : '', sessionDate: typeof b.sessionDate === 'string' ? b.sessionDate : '' };
}

sessionsRouter.post('/school/:schoolId/sessions', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  const form = parseForm(newSessionSchema, req.body);
  if (!form.ok) return renderNew(req, res, schoolId, 422, form.errors, enteredNew(req.body));
  const result = await createSession(actorOf(req), schoolId, form.data, String(req.id));
  if (!result.ok) return renderNew(req, res, schoolId, 422, result.errors, enteredNew(req.body));
  setFlash(req, 'sessions.flash.created');
  res.redirect(303, `${base(schoolId)}/${result.id}`);
});

sessionsRouter.get('/school/:schoolId/sessions/:id', leaders, async (req, res) => {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const actor = actorOf(req);
  const session = await getSession(actor, schoolId, id);
  const [{ today }, attendees] = await Promise.all([districtToday(actor), attendeeList(actor, session)]);
  res.render('sessions/show', { title: `${session.moduleTitle[res.locals.lang as Lang] || session.moduleTitle.en} · ${res.locals.t('sessions.show.title')}`, session, attendees, canFinish: session.sessionDate <= today, ...helpers });
});

async function presentation(req: Request, res: Response) {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const actor = actorOf(req);
  const session = await getSession(actor, schoolId, id);
  const lang = res.locals.lang as Lang;
  // The session's school's contacts (its own, else its region's, else the district's).
  const [district, review] = await Promise.all([getSchoolContactContext(actor.districtId, schoolId), getCounselReview(actor.districtId, session.moduleSlug, session.moduleVersion)]);
  const reviewNotice = counselNotice(review, lang, res.locals.t);
  return { session, reviewNotice, deck: buildPresentation(sessionModule(session), createRenderer(district.content[lang], lang)) };
}

/** One step per page (Previous/Next links, works without JavaScript); no answers are recorded. */
sessionsRouter.get('/school/:schoolId/sessions/:id/present', leaders, async (req, res) => {
  const { step = 1 } = parseOrThrow(presentQuery, req.query);
  const { session, deck, reviewNotice } = await presentation(req, res);
  const current = deck.steps[step - 1];
  if (!current) throw notFound();
  res.render('sessions/present', {
    title: `${deck.title} · ${res.locals.t('sessions.present.stepOf', { step, total: deck.steps.length })}`,
    stylesheet: '/static/css/sessions.css',
    session,
    deck,
    step: current,
    total: deck.steps.length,
    reviewNotice,
    stepUrl: (n: number) => `${base(session.school.id)}/${session.id}/present${n > 1 ? `?step=${n}` : ''}`,
    ...helpers,
  });
});

/** Every step on one page with every reveal open: a handout, or to print. */
sessionsRouter.get('/school/:schoolId/sessions/:id/present/all', leaders, async (req, res) => {
  const { session, deck, reviewNotice } = await presentation(req, res);
  res.render('sessions/handout', { title: deck.title, stylesheet: '/static/css/sessions.css', session, deck, reviewNotice, ...helpers });
});

async function renderAttendance(req: Request, res: Response, status: number, errors: FieldErrors = {}, entered?: string[]) {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const { jobTitle } = parseOrThrow(attendanceQuery, { jobTitle: (req.body as Record<string, unknown> | undefined)?.jobTitle ?? req.query.jobTitle });
  const page = await getAttendance(actorOf(req), schoolId, id, jobTitle);
  const checked = new Set(entered ?? page.session.attendeeIds);
  res.status(status).render('sessions/attendance', {
    title: res.locals.t('sessions.attendance.heading'),
    ...page,
    checked,
    jobTitle,
    errors,
    ...helpers,
  });
}

sessionsRouter.get('/school/:schoolId/sessions/:id/attendance', leaders, async (req, res) => {
  await renderAttendance(req, res, 200);
});

/** The checks as posted (strings only), so a refused save re-renders with what was entered. */
function enteredChecks(body: unknown): string[] | undefined {
  const value = (body as Record<string, unknown> | undefined)?.attendees;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

sessionsRouter.post('/school/:schoolId/sessions/:id/attendance', leaders, async (req, res) => {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const form = parseForm(attendanceSchema, req.body);
  if (!form.ok) return renderAttendance(req, res, 422, { attendees: 'sessions.errors.attendees' }, enteredChecks(req.body) ?? []);
  const result = await saveAttendance(actorOf(req), schoolId, id, form.data, String(req.id));
  if (!result.ok) return renderAttendance(req, res, 422, result.errors, enteredChecks(req.body) ?? []);
  setFlash(req, 'sessions.flash.attendanceSaved');
  const { jobTitle } = parseOrThrow(attendanceQuery, { jobTitle: (req.body as Record<string, unknown>).jobTitle });
  res.redirect(303, `${base(schoolId)}/${id}/attendance${jobTitle ? `?jobTitle=${jobTitle}` : ''}`);
});

async function renderFinish(req: Request, res: Response, status: number, errors: FieldErrors = {}) {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const actor = actorOf(req);
  const session = await getSession(actor, schoolId, id);
  const { timeZone } = await districtToday(actor);
  res.status(status).render('sessions/finish', {
    title: res.locals.t('sessions.finish.title'),
    session,
    canFinish: canFinishOn(session.sessionDate, new Date(), timeZone),
    errors,
    ...helpers,
  });
}

/** The confirmation step before Finish (a page, so it works without JavaScript). */
sessionsRouter.get('/school/:schoolId/sessions/:id/finish', leaders, async (req, res) => {
  await renderFinish(req, res, 200);
});

sessionsRouter.post('/school/:schoolId/sessions/:id/finish', leaders, async (req, res) => {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const form = parseForm(finishSchema, req.body);
  if (!form.ok) return renderFinish(req, res, 422, { confirm: 'sessions.errors.confirm' });
  const actor = actorOf(req);
  const [session, { timeZone }] = await Promise.all([getSession(actor, schoolId, id), districtToday(actor)]);
  if (session.status === 'open' && !canFinishOn(session.sessionDate, new Date(), timeZone)) return renderFinish(req, res, 422, { confirm: 'sessions.errors.notYet' });
  // An empty session would be finished for nothing and could never be reopened.
  if (session.status === 'open' && session.attendeeIds.length === 0) return renderFinish(req, res, 422, { confirm: 'sessions.errors.noAttendees' });
  const result = await finishSession(actor, schoolId, id, String(req.id));
  setFlash(req, result.isFinishedNow ? 'sessions.flash.finished' : 'sessions.flash.alreadyFinished');
  res.redirect(303, `${base(schoolId)}/${id}`);
});

async function renderDiscard(req: Request, res: Response, status: number, errors: FieldErrors = {}) {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const session = await getSession(actorOf(req), schoolId, id);
  // A finished session is refused with 409 on a post; the page explains either way and offers no form.
  res.status(status === 200 || session.status === 'open' ? status : 409).render('sessions/discard', { title: res.locals.t('sessions.discard.title'), session, errors, ...helpers });
}

/** The confirmation step before Discard (a page, so it works without JavaScript). */
sessionsRouter.get('/school/:schoolId/sessions/:id/discard', leaders, async (req, res) => {
  await renderDiscard(req, res, 200);
});

sessionsRouter.post('/school/:schoolId/sessions/:id/discard', leaders, async (req, res) => {
  const { schoolId, id } = parseOrThrow(sessionParams, req.params, 404);
  const form = parseForm(discardSchema, req.body);
  if (!form.ok) return renderDiscard(req, res, 422, { confirm: 'sessions.errors.confirmDiscard' });
  const session = await getSession(actorOf(req), schoolId, id);
  if (session.status !== 'open') return renderDiscard(req, res, 409);
  await discardSession(actorOf(req), schoolId, id, String(req.id));
  setFlash(req, 'sessions.flash.discarded');
  res.redirect(303, base(schoolId));
});
