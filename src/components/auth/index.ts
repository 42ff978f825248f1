export { authRouter } from './auth.routes';
export { SIGNED_OUT_PATH, SIGNED_OUT_STATE } from './auth.routes';
export { configurePassport } from './passport';
export { requireAuth, requireRole, actorOf, rememberLanguageChoice } from './auth.middleware';
export { hashPassword, verifyPassword } from './password';
export { toActor, loadActor, loadSessionActor, forgetSessionActors, signIn, setPreferredLanguage, MAX_FAILED_SIGN_INS, LOCKOUT_MINUTES } from './auth.service';
export { safeRedirectPath } from './auth.schemas';
