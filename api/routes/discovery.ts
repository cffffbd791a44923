// /discovery: fleet's discovery document.

import { DISCOVERY_JSON } from '../discovery.js';
import { send } from '../http.js';
import { type ApiRoute, byMethod } from '../route.js';

export const discoveryRoutes: readonly ApiRoute[] = [
  {
    path: /^\/discovery$/,
    // fleet answered other methods here with 400, not 405.
    serve: (call) =>
      byMethod(
        call,
        { GET: async () => send(call.res, 200, DISCOVERY_JSON) },
        'only HTTP GET supported against this resource',
        400,
      ),
  },
];
