// GET /ui/ (the page), /ui/app.js, /ui/app.css: the console's static files, served without
// authentication by the TCP listeners too (they hold no cluster data; every data request the page
// makes carries the token). A strict Content-Security-Policy: nothing but this origin.

import { ApiError } from '../http.js';
import type { ApiRoute } from '../route.js';
import { consoleAssets } from './assets.js';

export const UI_STATIC_PATH = /^\/ui(\/|\/index\.html|\/app\.js|\/app\.css)?$/;

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const uiStaticRoutes: readonly ApiRoute[] = [
  {
    root: true,
    path: UI_STATIC_PATH,
    serve: async ({ method, res, params }) => {
      if (method !== 'GET' && method !== 'HEAD')
        throw new ApiError(405, 'only GET supported against this resource');
      const sub = params[0];
      if (sub === undefined) {
        res.writeHead(301, { Location: '/ui/', 'Content-Length': '0' });
        res.end();
        return;
      }
      const name = sub === '/' ? 'index.html' : sub.slice(1);
      const assets = consoleAssets();
      if (!assets) throw new ApiError(404, 'the console is not built (npm run build)');
      const body = assets[name as keyof typeof assets];
      res.writeHead(200, {
        'Content-Type': TYPES[name] ?? 'application/octet-stream',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      res.end(method === 'HEAD' ? undefined : body);
    },
  },
];
