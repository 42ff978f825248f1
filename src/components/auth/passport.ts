import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { LOCKOUT_MINUTES, MAX_FAILED_SIGN_INS, loadSessionActor, signIn, type SignInResult } from './auth.service';
import { unknownEmailLockout } from './unknown-email-lockout';

/** Why a local sign-in failed, handed from the strategy to the route as passport's `info`. */
export type SignInFailure = Extract<SignInResult, { ok: false }>;

// A user id, and the session epoch it was signed in with (absent in sessions from before epochs: 0).
const SESSION_USER = /^([0-9a-f]{24})(?:\.(\d{1,9}))?$/;

/**
 * The session keeps only the user id; the Actor comes from the database through a short per-process memo
 * (auth.service, SESSION_ACTOR_MS): deactivation and role changes made here apply at once, elsewhere
 * within seconds.
 */
export function configurePassport(config: { sessionSecret: string }): typeof passport {
  const unknownEmails = unknownEmailLockout({ secret: config.sessionSecret, maxFailures: MAX_FAILED_SIGN_INS, lockoutMinutes: LOCKOUT_MINUTES });
  // passport-local reads the fields the route has already validated as plain strings (never operator objects).
  passport.use(
    'local',
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', session: true }, (email, password, done) => {
      signIn(email, password, new Date(), unknownEmails).then(
        (result) => (result.ok ? done(null, result.actor) : done(null, false, { message: result.reason, ...result })),
        (err) => done(err),
      );
    }),
  );
  // The session keeps "<user id>.<session epoch>": a password change or reset moves the account's epoch on,
  // so sessions signed in before it end at their next request (the one that changed it is signed in again).
  passport.serializeUser((user, done) => done(null, `${user.userId}.${user.sessionEpoch}`));
  passport.deserializeUser((value: unknown, done) => {
    const stored = typeof value === 'string' ? SESSION_USER.exec(value) : null;
    if (!stored) return done(null, false);
    const epoch = stored[2] === undefined ? 0 : Number(stored[2]);
    loadSessionActor(stored[1]).then(
      (actor) => done(null, actor && actor.sessionEpoch === epoch ? actor : false),
      (err) => done(err),
    );
  });
  return passport;
}
