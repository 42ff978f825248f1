import type { Express } from 'express';
import request from 'supertest';
import { TEST_PASSWORD } from './factories';

export type Agent = ReturnType<typeof request.agent>;

export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in page');
  return match[1];
}

/** A browser-like agent: fetches the sign-in form, posts credentials with its CSRF token, follows nothing. */
export async function signIn(app: Express, email: string, password = TEST_PASSWORD): Promise<Agent> {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email, password });
  if (res.status !== 303) throw new Error(`sign-in failed for ${email}: ${res.status}`);
  return agent;
}

/** A fresh CSRF token for a signed-in agent (the token is rotated with the session at sign-in). */
export async function csrfFor(agent: Agent, path = '/account'): Promise<string> {
  const res = await agent.get(path);
  return csrfFrom(res.text);
}

/** Posts a form as the signed-in agent's browser would: with a fresh CSRF token (from `csrfPath`) and these fields. */
export async function postForm(agent: Agent, path: string, body: Record<string, unknown>, csrfPath = '/account') {
  return agent.post(path).type('form').send({ _csrf: await csrfFor(agent, csrfPath), ...body });
}
