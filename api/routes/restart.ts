// fleet-ts extension: POST /units/<name>/restart bumps the unit's restart generation (registry/restart.ts)
// and answers `{"generation": N}`. Every agent that runs the unit then restarts it with `systemctl
// restart`, and reports N as `restartGeneration` in its /state entity once it has.

import { UnitNotFoundError } from '../../registry/types.js';
import { validateUnitName } from '../../units/names.js';
import { ApiError, sendJSON } from '../http.js';
import { itemName } from '../params.js';
import { type ApiCall, type ApiContext, type ApiRoute, byMethod } from '../route.js';

/** Unit names never contain '/', so this route cannot shadow a unit (it is tried before /units/<name>). */
export const restartRoutes: readonly ApiRoute[] = [
  {
    path: /^\/units\/(.+)\/restart$/,
    serve: (call, ctx) => {
      const name = itemName(call.params[0] as string);
      return byMethod(
        call,
        { POST: () => restart(call, ctx, name) },
        'only POST supported against this resource',
      );
    },
  },
];

async function restart({ res }: ApiCall, ctx: ApiContext, name: string): Promise<void> {
  if (validateUnitName(name) !== null) throw new ApiError(404, 'unit does not exist');
  const registry = ctx.registry();
  if (!registry.restartUnit) throw new ApiError(501, 'restart is not available from this registry');
  try {
    sendJSON(res, 200, { generation: await registry.restartUnit(name) });
  } catch (err) {
    if (err instanceof UnitNotFoundError) throw new ApiError(404, 'unit does not exist');
    throw err;
  }
}
