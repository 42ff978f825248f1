import { Router } from 'express';
import { actorOf, requireRole } from '../auth';
import { contactsWithoutSpanish } from '../settings';
import { ADMIN_SECTIONS } from './admin-sections';

export const homeRouter = Router();

/** Each role starts on its own page. */
homeRouter.get('/', (req, res) => {
  const actor = actorOf(req);
  if (actor.role === 'district_admin') return res.redirect(303, '/district');
  // Their region view (resolveRegion); one whose region was deleted has only their training.
  if (actor.role === 'region_admin' && actor.regionIds?.length) return res.redirect(303, '/district');
  if (actor.role === 'principal' && actor.schoolIds.length > 0) return res.redirect(303, `/school/${actor.schoolIds[0]}`);
  res.redirect(303, '/training');
});

/** The district admin's index of administration areas (the header links here; each area has a sub-navigation). */
homeRouter.get('/admin', requireRole('district_admin'), async (req, res) => {
  const missingSpanish = (await contactsWithoutSpanish(actorOf(req))).length;
  res.render('admin/index', { title: res.locals.t('nav.administration'), sections: ADMIN_SECTIONS, missingSpanish });
});
