// /units and /units/<name>: list, get, create/replace/update (PUT), destroy.

import { UnitNotFoundError, type UnitWithTarget } from '../../registry/types.js';
import { parseUnitName, validateUnitName } from '../../units/names.js';
import { unitHash } from '../../units/serialize.js';
import { isDesiredState } from '../../units/states.js';
import type { DesiredState, UnitOption } from '../../units/types.js';
import { validateOptions } from '../../units/xfleet.js';
import { BodyError, decodeUnitBody, type UnitBody } from '../decode.js';
import { apiPage, apiUnit } from '../entities.js';
import { ApiError, checkContentType, goQuote, readBody, send, sendJSON } from '../http.js';
import { encodePageToken, pageOf } from '../page-token.js';
import { itemName, pageToken } from '../params.js';
import { type ApiCall, type ApiContext, type ApiRoute, byMethod } from '../route.js';

/**
 * Decisions of one PUT before it gives up with 409. Every lost compare-and-swap means another PUT
 * won, so N concurrent writers of one unit all finish within N rounds.
 */
const PUT_ATTEMPTS = 64;

export const unitRoutes: readonly ApiRoute[] = [
  {
    path: /^\/units$/,
    serve: (call, ctx) =>
      byMethod(call, { GET: () => listUnits(call, ctx) }, 'only GET supported against this resource'),
  },
  {
    path: /^\/units\/(.+)$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(
        call,
        {
          GET: () => getUnit(call, ctx, name),
          DELETE: () => destroyUnit(call, ctx, name),
          PUT: () => putUnit(call, ctx, name),
        },
        'only GET, PUT and DELETE supported against this resource',
      );
    },
  },
];

async function listUnits({ res, query }: ApiCall, ctx: ApiContext): Promise<void> {
  const tok = pageToken(query, ctx.tokenLimit);
  const registry = ctx.registry();
  const listings = ctx.listings<UnitWithTarget>('units');
  const all = await listings.get('', tok.page === 1, () => registry.listUnits());
  const page = pageOf(all, tok);
  sendJSON(res, 200, apiPage('units', page.items.map(apiUnit), page.next && encodePageToken(page.next)));
}

async function getUnit({ res }: ApiCall, ctx: ApiContext, name: string): Promise<void> {
  const unit = validateUnitName(name) === null ? await ctx.registry().getUnit(name) : null;
  if (!unit) throw new ApiError(404, 'unit does not exist');
  sendJSON(res, 200, apiUnit(unit));
}

async function destroyUnit({ res }: ApiCall, ctx: ApiContext, name: string): Promise<void> {
  const deleted = validateUnitName(name) === null && (await ctx.registry().destroyUnit(name));
  if (!deleted) throw new ApiError(404, 'unit does not exist');
  send(res, 204);
}

async function putUnit({ req, res }: ApiCall, ctx: ApiContext, urlName: string): Promise<void> {
  checkContentType(req);
  const text = await readBody(req, res, ctx.maxBodyBytes);
  let body: UnitBody;
  try {
    body = decodeUnitBody(text);
  } catch (err) {
    if (err instanceof BodyError) throw new ApiError(400, `unable to decode body: ${err.message}`);
    throw err;
  }
  const name = body.name === '' ? urlName : body.name;
  if (name !== urlName) {
    throw new ApiError(
      400,
      `name in URL ${goQuote(urlName)} differs from unit name in request body ${goQuote(name)}`,
    );
  }
  const nameProblem = validateUnitName(name);
  if (nameProblem !== null) throw new ApiError(400, nameProblem);
  // fleet stored any string here and the unit became unreadable; refuse it before touching anything.
  if (body.desiredState !== '' && !isDesiredState(body.desiredState)) {
    throw new ApiError(
      400,
      `invalid desiredState ${goQuote(body.desiredState)}: expected inactive, loaded or launched`,
    );
  }
  const wanted = body.desiredState === '' ? undefined : (body.desiredState as DesiredState);
  const isTemplate = parseUnitName(name).isTemplate;
  const checkActivation = (state: DesiredState): void => {
    if (isTemplate && state !== 'inactive')
      throw new ApiError(400, `cannot activate template ${goQuote(name)}`);
  };
  const checkOptions = (options: readonly UnitOption[]): string => {
    const problem = validateOptions(options);
    if (problem !== null) throw new ApiError(400, problem);
    return unitHash(options);
  };

  // A concurrent PUT can create or delete the unit between our read and our write; the registry's
  // transactions make each write all-or-nothing, and a lost race is decided again on fresh data.
  for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt++) {
    const registry = ctx.registry();
    const existing = await registry.getUnit(name);
    if (!existing) {
      if (body.options.length === 0) throw new ApiError(409, 'unit does not exist and options field empty');
      const hash = checkOptions(body.options);
      const state = wanted ?? 'inactive';
      checkActivation(state);
      const created = await registry.createUnit({ name, hash, options: body.options, desiredState: state });
      if (created) return send(res, 201);
      continue;
    }
    if (body.options.length > 0 && unitHash(body.options) !== existing.hash) {
      // New contents: fleet re-creates the unit with the body's desired state (default inactive).
      const hash = checkOptions(body.options);
      const state = wanted ?? 'inactive';
      checkActivation(state);
      // Compare-and-swap on the version we decided on: if another PUT replaced it meanwhile, decide again.
      const replaced = await registry.createUnit(
        { name, hash, options: body.options, desiredState: state },
        { replace: true, expectHash: existing.hash },
      );
      if (replaced) return send(res, 201);
      continue;
    }
    if (wanted === undefined) throw new ApiError(409, 'must provide DesiredState to update existing unit');
    checkActivation(wanted);
    try {
      await registry.setDesiredState(name, wanted);
    } catch (err) {
      if (err instanceof UnitNotFoundError) continue;
      throw err;
    }
    return send(res, 204);
  }
  throw new ApiError(409, 'unit changed concurrently, try again');
}
