import passport from 'passport';
import { loadActor } from './auth.service';

/** The session keeps only the user id; the Actor is reloaded per request so deactivation and role changes apply at once. */
export function configurePassport(): typeof passport {
  passport.serializeUser((user, done) => done(null, user.userId));
  passport.deserializeUser((id: unknown, done) => {
    if (typeof id !== 'string') return done(null, false);
    loadActor(id).then(
      (actor) => done(null, actor ?? false),
      (err) => done(err),
    );
  });
  return passport;
}
