import type { Types } from 'mongoose';
import mongoose from 'mongoose';
import request from 'supertest';
import type { Express } from 'express';
import { LtiPlatform } from '../../../src/components/lti';
import type { TestLtiPlatform } from '../../helpers/lti-platform';

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
