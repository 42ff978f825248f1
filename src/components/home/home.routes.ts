import { Router } from 'express';
import { actorOf } from '../auth';

export const homeRouter = Router();

/** Each role starts on its own page. */
homeRouter.get('/', (req, res) => {
  const actor = actorOf(req);
  if (actor.role === 'district_admin') return res.redirect(303, '/district');
  if (actor.role === 'principal' && actor.schoolIds.length > 0) return res.redirect(303, `/school/${actor.schoolIds[0]}`);
  res.redirect(303, '/training');
});
