/** Facilitated group sessions: a principal presents a module to staff together and records who attended. */
export { sessionsRouter } from './sessions.routes';
export { FacilitatedSession, SESSION_STATUSES, type SessionRecord, type SessionStatus } from './session.model';
