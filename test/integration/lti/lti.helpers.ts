import type { Types } from 'mongoose';
import mongoose from 'mongoose';
import request from 'supertest';
import type { Express } from 'express';
import { LtiPlatform } from '../../../src/components/lti';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { startLtiPlatform, type TestLtiPlatform } from '../../helpers/lti-platform';
import { FIXTURE_MODULES } from '../training/player.helpers';

export const BASE_URL = 'http://training.test';
export const LAUNCH_URL = `${BASE_URL}/lti/launch`;

export const sessions = () => mongoose.connection.db!.collection<{ _id: string; session: string }>('sessions');

/** Sessions that have a signed-in person (passport.user = "<userId>.<epoch>"). */
export async function signedInSessions(userId?: string): Promise<number> {
  const all = await sessions().find({}).toArray();
  return all.filter((s) => {
    const user = (JSON.parse(s.session) as { passport?: { user?: string } }).passport?.user;
    return user && (!userId || user.startsWith(`${userId}.`));
  }).length;
}

/** The session id inside the app's signed cookie (`s:<id>.<signature>`). */
export function sessionIdOf(res: { headers: Record<string, unknown> }): string | undefined {
  const cookie = ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sst.sid='));
  return cookie ? decodeURIComponent(cookie.split(';')[0].slice('sst.sid='.length)).slice(2).split('.')[0] : undefined;
}

export async function registerPlatform(platform: TestLtiPlatform, district: { _id: unknown }, overrides: Record<string, unknown> = {}) {
  return LtiPlatform.create({
    district: district._id as Types.ObjectId,
    name: 'Canvas',
    issuer: platform.issuer,
    clientId: platform.clientId,
    authLoginUrl: platform.authUrl,
    jwksUrl: platform.jwksUrl,
    deploymentIds: [platform.deploymentId],
    linkByEmail: true,
    ...overrides,
  });
}

/** The binding cookie's value from a response's Set-Cookie, and the whole Set-Cookie line. */
export function bindingCookieOf(res: { headers: Record<string, unknown> }): { value?: string; line?: string } {
  const line = ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sst.lti_binding='));
  const value = line?.split(';')[0].slice('sst.lti_binding='.length);
  return { value: value || undefined, line };
}

/**
 * The LMS starts a launch (third-party-initiated login) in a browser (`agent`, which then keeps the binding
 * cookie; a fresh browser when not given); returns the state and nonce we sent to its auth endpoint, and the
 * binding cookie's value (`cookie`: the Cookie header that carries it).
 */
export async function initiateLogin(app: Express, platform: TestLtiPlatform, loginHint: string, target = `${LAUNCH_URL}?module=foundations`, agent: ReturnType<typeof request.agent> | ReturnType<typeof request> = request(app)) {
  const res = await agent.post('/lti/login').type('form').send({
    iss: platform.issuer,
    login_hint: loginHint,
    target_link_uri: target,
    lti_message_hint: target,
    client_id: platform.clientId,
    lti_deployment_id: platform.deploymentId,
  });
  if (res.status !== 303) throw new Error(`login initiation answered ${res.status}`);
  const url = new URL(res.headers.location);
  const binding = bindingCookieOf(res).value!;
  return { res, location: res.headers.location as string, state: url.searchParams.get('state')!, nonce: url.searchParams.get('nonce')!, binding, cookie: `sst.lti_binding=${binding}` };
}

/**
 * For the LTI Advantage suites (grade passback, Deep Linking): a test LMS; the app with an xAPI key (its tool
 * key is stored with it) and the fixture modules, listening on loopback so the LMS fetches our /lti/jwks over
 * HTTP as Canvas does from the "Public JWK URL"; a district with one school and the LMS registered in it
 * (with its token endpoint). `close` stops all three.
 */
export async function startAdvantageWorld() {
  const platform = await startLtiPlatform();
  const t = await startTestApp({ BASE_URL, XAPI_SECRET_KEY: randomBytes(32).toString('hex') });
  await prepareTrainingContent(FIXTURE_MODULES);
  const server = await new Promise<Server>((resolve) => {
    const s = t.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lti/jwks`;
  platform.trustTool(jwksUrl);
  const district = await createDistrict();
  const school = await createSchool(district);
  const registration = await registerPlatform(platform, district, { tokenUrl: platform.tokenUrl });
  return {
    platform,
    t,
    district,
    school,
    registration,
    /** Our key set's address, for another test LMS to trust. */
    jwksUrl,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
      await platform.close();
    },
  };
}

export type AdvantageWorld = Awaited<ReturnType<typeof startAdvantageWorld>>;

let launched = 0;

/**
 * A rostered person who launches the fixture module from the world's LMS (or `platform`, another registered one)
 * with these claims; returns their signed-in browser and LTI subject.
 */
export async function launchFromLms(world: AdvantageWorld, claims: Record<string, unknown> | undefined, options: { platform?: TestLtiPlatform; slug?: string } = {}) {
  const { platform = world.platform, slug = 'fixture-basics' } = options;
  launched += 1;
  const user = await createUser(world.district, { email: `ags${launched}@district.example`, schools: [world.school] });
  const hint = `ags-hint-${launched}`;
  const person = { sub: `canvas-ags-${launched}`, email: user.email, claims };
  platform.addPerson(hint, person);
  const agent = request.agent(world.t.app);
  const { location } = await initiateLogin(world.t.app, platform, hint, `${LAUNCH_URL}?module=${slug}`, agent);
  const form = await platform.authorize(location);
  const res = await agent.post('/lti/launch').type('form').send(form.fields);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe(`/training/${slug}`);
  return { user, agent, sub: person.sub };
}
