import { Type, type TSchema } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Logger } from '../../core/log/logger';
import { ROLES, type Role } from '../auth/roles';
import type { ApiKeyStore } from '../stores/api-keys';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, UserError, type UserStore } from '../stores/users';
import { HttpError } from './errors';
import { principalOf, type Route } from './route';

/**
 * Users and API keys under /api, admin only (declared by accessRoutes in ./access beside sign-in):
 *
 * GET    /users, POST /users         list, create
 * PATCH  /users/{username}           role and camera list
 * POST   /users/{username}/password  reset a password
 * DELETE /users/{username}           (their API keys go with them)
 * GET    /keys, POST /keys, DELETE /keys/{id}   API keys; the secret is shown once, on creation
 *
 * Keys are admin only: an operator who needs a script runs it with a key an admin made for that role.
 */
export interface AdminRoutesDeps {
  users: UserStore;
  keys: ApiKeyStore;
  log: Logger;
}

export const RoleSchema = Type.Union(
  ROLES.map((r) => Type.Literal(r)),
  { description: 'viewer: read only; operator: also acknowledge, retry, suspend, trigger; admin: also users, keys, settings, flows.' },
);
export const Cameras = Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 }), Type.Null()], {
  description: 'The camera ids it may see, or null for all cameras.',
});
export const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH });
const UsernameParam = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
const DateTimeOrNull = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const UserSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  cameras: Cameras,
  createdAt: Type.String({ format: 'date-time' }),
  passwordChangedAt: DateTimeOrNull,
});
const KeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  cameras: Cameras,
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: DateTimeOrNull,
  lastUsedAt: DateTimeOrNull,
});
export function json(schema: TSchema, limitBytes = 4096) {
  return { schema, limitBytes };
}

/** A store's refusal as the HTTP answer it means. */
function asHttp(err: unknown): unknown {
  if (!(err instanceof UserError)) return err;
  if (err.kind === 'not_found') return new HttpError(404, 'not_found', err.message);
  if (err.kind === 'exists' || err.kind === 'last_admin') return new HttpError(409, 'refused', err.message);
  if (err.kind === 'wrong_password') return new HttpError(403, 'forbidden', err.message);
  return new HttpError(400, 'invalid_request', err.message);
}

export async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asHttp(err);
  }
}

export function userRoutes({ users, keys, log }: AdminRoutesDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/users',
      operationId: 'listUsers',
      summary: 'List users',
      tags: ['users'],
      access: 'admin',
      responses: { 200: { description: 'The users.', schema: Type.Object({ users: Type.Array(UserSchema) }) } },
      handler: (_req: Request, res: Response) => {
        res.json({ users: users.list() });
      },
    },
    {
      method: 'post',
      path: '/users',
      operationId: 'createUser',
      summary: 'Create a user',
      tags: ['users'],
      access: 'admin',
      body: json(
        Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 64 }), password: Password, role: RoleSchema, cameras: Type.Optional(Cameras) },
          { additionalProperties: false },
        ),
      ),
      responses: { 201: { description: 'Created.', schema: Type.Object({ user: UserSchema }) }, 409: { description: 'A user with this name exists.' } },
      handler: async (req: Request, res: Response) => {
        const body = req.body as { username: string; password: string; role: Role; cameras?: string[] | null };
        const user = await storeCall(() => users.create(body));
        log.info({ username: user.username, role: user.role, by: principalOf(req).username }, 'user created');
        res.status(201).json({ user });
      },
    },
    {
      method: 'patch',
      path: '/users/{username}',
      operationId: 'updateUser',
      summary: "Change a user's role or cameras",
      description: "The user's tokens are signed out: they carried the old rights. Demoting the last admin is refused.",
      tags: ['users'],
      access: 'admin',
      params: UsernameParam,
      body: json(Type.Object({ role: Type.Optional(RoleSchema), cameras: Type.Optional(Cameras) }, { additionalProperties: false, minProperties: 1 })),
      responses: {
        200: { description: 'Changed.', schema: Type.Object({ user: UserSchema }) },
        404: { description: 'No such user.' },
        409: { description: 'It would leave no admin.' },
      },
      handler: async (req: Request, res: Response) => {
        const user = await storeCall(() => users.update(req.params.username, req.body as { role?: Role; cameras?: string[] | null }));
        log.info({ username: user.username, role: user.role, cameras: user.cameras, by: principalOf(req).username }, 'user changed');
        res.json({ user });
      },
    },
    {
      method: 'post',
      path: '/users/{username}/password',
      operationId: 'resetPassword',
      summary: "Reset a user's password",
      description: 'Every token of the user is signed out, editor sessions included.',
      tags: ['users'],
      access: 'admin',
      params: UsernameParam,
      body: json(Type.Object({ password: Password }, { additionalProperties: false })),
      responses: { 200: { description: 'Reset.', schema: Type.Object({ user: UserSchema }) }, 404: { description: 'No such user.' } },
      handler: async (req: Request, res: Response) => {
        const user = await storeCall(() => users.resetPassword(req.params.username, (req.body as { password: string }).password));
        log.info({ username: user.username, by: principalOf(req).username }, 'password reset');
        res.json({ user });
      },
    },
    {
      method: 'delete',
      path: '/users/{username}',
      operationId: 'deleteUser',
      summary: 'Delete a user',
      description: 'Their API keys are revoked with them. Deleting the last admin is refused.',
      tags: ['users'],
      access: 'admin',
      params: UsernameParam,
      responses: { 204: { description: 'Deleted.' }, 404: { description: 'No such user.' }, 409: { description: 'It would leave no admin.' } },
      handler: async (req: Request, res: Response) => {
        const { username } = req.params;
        await storeCall(() => users.delete(username));
        for (const key of keys.list().filter((k) => k.createdBy === username)) await keys.revoke(key.id);
        log.info({ username, by: principalOf(req).username }, 'user deleted');
        res.status(204).end();
      },
    },
  ];
}

export function keyRoutes({ keys, log }: AdminRoutesDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/keys',
      operationId: 'listApiKeys',
      summary: 'List API keys',
      description: 'Never the secrets: those are shown once, when a key is created.',
      tags: ['keys'],
      access: 'admin',
      responses: { 200: { description: 'The keys.', schema: Type.Object({ keys: Type.Array(KeySchema) }) } },
      handler: (_req: Request, res: Response) => {
        res.json({ keys: keys.list() });
      },
    },
    {
      method: 'post',
      path: '/keys',
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description: 'Use it as `Authorization: Bearer <secret>` or as the MQTT password. The secret is in this answer only; Glimpser keeps its hash.',
      tags: ['keys'],
      access: 'admin',
      body: json(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64 }),
            role: RoleSchema,
            cameras: Type.Optional(Cameras),
            // Checked by the store (Date.parse, in the future): the validator has no date-time format.
            expiresAt: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 64, description: 'An RFC 3339 date-time; null or absent: never.' }), Type.Null()]),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      responses: { 201: { description: 'Created.', schema: Type.Object({ key: KeySchema, secret: Type.String() }) } },
      handler: async (req: Request, res: Response) => {
        const creator = principalOf(req);
        const body = req.body as { name: string; role: Role; cameras?: string[] | null; expiresAt?: string | null };
        const created = await storeCall(() => keys.create(creator, body));
        log.info({ key: created.key.id, role: created.key.role, by: creator.username }, 'API key created');
        res.setHeader('Cache-Control', 'no-store');
        res.status(201).json(created);
      },
    },
    {
      method: 'delete',
      path: '/keys/{id}',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      tags: ['keys'],
      access: 'admin',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      responses: { 204: { description: 'Revoked.' }, 404: { description: 'No such key.' } },
      handler: async (req: Request, res: Response) => {
        if (!(await keys.revoke(req.params.id))) throw new HttpError(404, 'not_found', `id: no API key "${req.params.id}"`);
        log.info({ key: req.params.id, by: principalOf(req).username }, 'API key revoked');
        res.status(204).end();
      },
    },
  ];
}
