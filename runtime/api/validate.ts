import type { Static, TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { badRequest } from './errors';

const ajv = new Ajv({ allErrors: false, strict: false });

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid';
  const where = `body${error.instancePath.replace(/\//g, '.')}`;
  if (error.keyword === 'additionalProperties') return `${where}: unknown property "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'required') return `${where}: missing property "${String(error.params.missingProperty)}"`;
  return `${where}: ${error.message ?? 'invalid'}`;
}

/** Express middleware that answers 400 naming the first wrong field unless the JSON body matches the schema. */
export function validateBody<T extends TSchema>(schema: T): RequestHandler {
  const check = ajv.compile<Static<T>>(schema);
  return (req: Request, _res: Response, next: NextFunction) => {
    next(check(req.body) ? undefined : badRequest(describe(check.errors?.[0])));
  };
}
