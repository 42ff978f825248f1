/** The region delete confirm page and its POST (region-removal.ts): from the region's edit page. */
import { Router } from 'express';
import { actorOf, requireRole } from '../auth';
import { setFlash } from '../../shared/flash';
import { parseOrThrow } from '../../shared/validation';
import { idParams } from './schools.schemas';
import { deleteRegion, previewRegionRemoval } from './region-removal';

export const regionRemovalRouter = Router();
const admins = requireRole('district_admin');

regionRemovalRouter.get('/admin/regions/:id/delete', admins, async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const region = await previewRegionRemoval(actorOf(req), id);
  res.render('regions/delete', { title: res.locals.t('regions.delete.title', { name: region.name }), region });
});

regionRemovalRouter.post('/admin/regions/:id/delete', admins, async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const { schools } = await deleteRegion(actorOf(req), id, { requestId: String(req.id) });
  setFlash(req, schools ? 'regions.flash.deleted' : 'regions.flash.deletedEmpty');
  res.redirect(303, '/admin/regions');
});
