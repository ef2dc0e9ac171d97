import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { RouteAuth } from './route';

/**
 * The interactive API page at /docs: Swagger UI from the swagger-ui-dist package, served from this process (no CDN,
 * so it works offline and nothing about the API leaves the network), reading /api/openapi.json. Like everything but
 * the health checks it needs a signed-in user; a browser answers the 401's Basic challenge, and the page's own
 * requests then carry the same credentials (or the session cookie of the web app).
 */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Glimpser API</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js"></script>
    <script src="./glimpser-docs.js"></script>
  </body>
</html>
`;

// An external script rather than an inline one, so the page works under a Content-Security-Policy without
// 'unsafe-inline'. validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '../api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

export function docsRouter(auth: RouteAuth): Router {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const router = express.Router({ strict: true });
  router.use(auth.requireUser());
  // Relative asset URLs need the trailing slash: /docs → /docs/.
  router.get('/', (req: Request, res: Response) => {
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(301, `${req.baseUrl}/`);
    res.type('html').set('Cache-Control', 'no-cache').send(PAGE);
  });
  router.get('/glimpser-docs.js', (_req: Request, res: Response) => {
    res.type('text/javascript; charset=utf-8').set('Cache-Control', 'no-cache').send(INITIALIZER);
  });
  for (const [file, type] of Object.entries(ASSETS)) {
    router.get(`/${file}`, (_req: Request, res: Response, next) => {
      res.sendFile(path.join(dist, file), { headers: { 'Content-Type': type, 'Cache-Control': 'private, max-age=3600' } }, (err) => err && next(err));
    });
  }
  return router;
}
