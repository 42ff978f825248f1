/**
 * The SCIM 2.0 endpoint, /scim/v2 (docs/scim.md). Mounted in app.ts before sessions and CSRF: no cookie,
 * no session and no CSRF token here — a bearer token only, which names the district. Its own JSON parser
 * (application/scim+json and application/json, the app's 64 kB limit), its own 404 and error handler, so
 * every answer is SCIM JSON and nothing falls through to the browser routes.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config';
import { logger } from '../../shared/logger';
import { sharedRateLimit } from '../../shared/rate-limit';
import { ScimError } from './scim-errors';
import { authenticateToken, type ScimClient } from './scim-tokens.service';
import { LIST_SCHEMA, parseFilter, toScimUser } from './scim-user';
import { createPerson, deactivatePerson, getPerson, listPeople, MAX_RESULTS, patchPerson, replacePerson } from './scim-users.service';
import { resourceTypes, schemas, serviceProviderConfig } from './scim-discovery';

const SCIM_TYPE = 'application/scim+json';
/** Failed token attempts per address before it is refused for the window (a right token does not count). */
export const FAILED_TOKEN_LIMIT = 20;

declare module 'express-serve-static-core' {
  interface Locals {
    scimClient?: ScimClient;
  }
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type(SCIM_TYPE).send(JSON.stringify(body));
}

function clientOf(res: Response): ScimClient {
  const client = res.locals.scimClient;
  if (!client) throw new ScimError(401, 'Authentication required');
  return client;
}

function positiveInt(value: unknown, fallback: number): number {
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value.trim())) return fallback;
  return Number(value);
}

export function scimRouter(config: Config): Router {
  const router = Router();
  const base = `${config.baseUrl}/scim/v2`;
  const ctx = (req: Request) => ({ requestId: String(req.id) });

  // Per address, counted in MongoDB across app instances: only failed token checks (401) count, so a
  // guessing client is stopped while a provisioning service with the right token is not slowed.
  router.use(
    sharedRateLimit({
      name: 'scim-token',
      secret: config.sessionSecret,
      windowMs: 15 * 60 * 1000,
      limit: FAILED_TOKEN_LIMIT,
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode !== 401,
      handler: (_req, res) => send(res, 429, new ScimError(429, 'Too many failed authentication attempts from this address; try again later').toJSON()),
    }),
  );

  router.use(async (req, res, next) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const client = match ? await authenticateToken(match[1]) : null;
    if (!client) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="scim"');
      return send(res, 401, new ScimError(401, 'Authentication failed').toJSON());
    }
    res.locals.scimClient = client;
    next();
  });

  router.use(express.json({ type: ['application/json', SCIM_TYPE], limit: '64kb' }));

  router.get('/ServiceProviderConfig', (_req, res) => send(res, 200, serviceProviderConfig(base)));
  router.get('/ResourceTypes', (_req, res) => send(res, 200, resourceTypes(base)));
  router.get('/ResourceTypes/User', (_req, res) => send(res, 200, resourceTypes(base).Resources[0]));
  router.get('/Schemas', (_req, res) => send(res, 200, schemas(base)));
  router.get('/Schemas/:id', (req, res) => {
    const found = schemas(base).Resources.find((s) => s.id === req.params.id);
    if (!found) throw new ScimError(404, 'Schema not found');
    send(res, 200, found);
  });

  router.get('/Users', async (req, res) => {
    const filterText = req.query.filter;
    if (filterText !== undefined && typeof filterText !== 'string') throw new ScimError(400, 'filter must be given once', 'invalidFilter');
    const startIndex = Math.max(1, positiveInt(req.query.startIndex, 1));
    const count = Math.min(MAX_RESULTS, Math.max(0, positiveInt(req.query.count, MAX_RESULTS)));
    const result = await listPeople(clientOf(res), { filter: filterText ? parseFilter(filterText) : undefined, startIndex, count });
    send(res, 200, {
      schemas: [LIST_SCHEMA],
      totalResults: result.total,
      startIndex: result.startIndex,
      itemsPerPage: result.people.length,
      Resources: result.people.map((p) => toScimUser(p, config.baseUrl)),
    });
  });

  router.post('/Users', async (req, res) => {
    const person = await createPerson(clientOf(res), req.body, ctx(req));
    res.setHeader('Location', `${base}/Users/${person.id}`);
    send(res, 201, toScimUser(person, config.baseUrl));
  });
  router.get('/Users/:id', async (req, res) => send(res, 200, toScimUser(await getPerson(clientOf(res), req.params.id), config.baseUrl)));
  router.put('/Users/:id', async (req, res) => send(res, 200, toScimUser(await replacePerson(clientOf(res), req.params.id, req.body, ctx(req)), config.baseUrl)));
  router.patch('/Users/:id', async (req, res) => send(res, 200, toScimUser(await patchPerson(clientOf(res), req.params.id, req.body, ctx(req)), config.baseUrl)));
  router.delete('/Users/:id', async (req, res) => {
    await deactivatePerson(clientOf(res), req.params.id, ctx(req));
    res.status(204).end();
  });

  // Groups are not supported (ResourceTypes lists User only): Entra's group provisioning is to be turned off.
  router.all('/Groups{/*rest}', () => {
    throw new ScimError(501, 'Groups are not supported by this service provider');
  });
  router.use(() => {
    throw new ScimError(404, 'Not found');
  });

  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return void res.destroy();
    if (err instanceof ScimError) return send(res, err.status, err.toJSON());
    const e = err as { status?: unknown; statusCode?: unknown; type?: unknown };
    const status = Number(e?.status ?? e?.statusCode);
    if (status === 413) return send(res, 413, new ScimError(413, 'The request body is too large').toJSON());
    if (status >= 400 && status < 500) {
      const detail = e?.type === 'entity.parse.failed' ? 'The request body is not valid JSON' : 'The request could not be understood';
      return send(res, 400, new ScimError(400, detail, 'invalidSyntax').toJSON());
    }
    logger.error({ err, reqId: req.id }, 'SCIM request failed');
    send(res, 500, new ScimError(500, 'Something went wrong on our side').toJSON());
  });
  return router;
}
