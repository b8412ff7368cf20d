// The API's OpenAPI document in Swagger UI, served by the app (no CDN); "Try it out" uses the
// browser session, with the CSRF token the API asks of session writes.
(function () {
  "use strict";
  const script = document.currentScript;
  window.ui = SwaggerUIBundle({
    url: script.dataset.spec,
    dom_id: "#swagger",
    deepLinking: true,
    validatorUrl: null, // the badge would load an image from validator.swagger.io
    requestInterceptor: (request) => {
      request.headers["X-CSRFToken"] = script.dataset.csrf;
      return request;
    },
  });
})();
