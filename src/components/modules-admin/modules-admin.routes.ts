import { Router, type Request, type Response } from 'express';
import { parseOrThrow } from '../../shared/validation';
import { actorOf, requireRole } from '../auth';
import type { Lang } from '../content';
import { getDistrictContext } from '../settings';
import { createRenderer, type Renderer } from '../training/training.view';
import { moduleSlugParams } from './modules-admin.schemas';
import { getModuleDetail, listModules } from './modules-admin.service';
import { moduleDetail, moduleRow } from './modules-admin.view';

export const modulesAdminRouter = Router();
modulesAdminRouter.use('/admin/modules', requireRole('district_admin'));

/** The player's renderer with this district's settings in the page's language: the preview reads as the district's learners see it. */
async function rendererFor(req: Request, res: Response): Promise<Renderer> {
  const lang = res.locals.lang as Lang;
  const district = await getDistrictContext(actorOf(req).districtId);
  return createRenderer(district.content[lang], lang);
}

modulesAdminRouter.get('/admin/modules', async (req, res) => {
  const [modules, r] = await Promise.all([listModules(actorOf(req)), rendererFor(req, res)]);
  res.render('modules/list', { title: res.locals.t('modules.list.title'), rows: modules.map((module) => moduleRow(module, r)) });
});

modulesAdminRouter.get('/admin/modules/:slug', async (req, res) => {
  const { slug } = parseOrThrow(moduleSlugParams, req.params, 404);
  const [detail, r] = await Promise.all([getModuleDetail(actorOf(req), slug), rendererFor(req, res)]);
  const view = moduleDetail(detail, r);
  res.render('modules/show', { title: view.title, module: view });
});
