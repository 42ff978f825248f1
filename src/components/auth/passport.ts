import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { loadSessionActor, signIn, type SignInResult } from './auth.service';

/** Why a local sign-in failed, handed from the strategy to the route as passport's `info`. */
export type SignInFailure = Extract<SignInResult, { ok: false }>;

/**
 * The session keeps only the user id; the Actor comes from the database through a short per-process memo
 * (auth.service, SESSION_ACTOR_MS): deactivation and role changes made here apply at once, elsewhere
 * within seconds.
 */
export function configurePassport(): typeof passport {
  // passport-local reads the fields the route has already validated as plain strings (never operator objects).
  passport.use(
    'local',
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', session: true }, (email, password, done) => {
      signIn(email, password).then(
        (result) => (result.ok ? done(null, result.actor) : done(null, false, { message: result.reason, ...result })),
        (err) => done(err),
      );
    }),
  );
  passport.serializeUser((user, done) => done(null, user.userId));
  passport.deserializeUser((id: unknown, done) => {
    if (typeof id !== 'string') return done(null, false);
    loadSessionActor(id).then(
      (actor) => done(null, actor ?? false),
      (err) => done(err),
    );
  });
  return passport;
}
