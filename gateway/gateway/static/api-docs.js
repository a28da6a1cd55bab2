// The API docs page (/api/docs): Swagger UI 5 on the gateway's own OpenAPI description.
// A file, not an inline script: the page's Content-Security-Policy allows scripts from 'self' only.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
