// /api/v1/docs: draw the API's document with Swagger UI (templates/swagger_ui.html).
// "Authorize" takes a personal API token (from the profile page); requests made from the
// page then carry it as "Authorization: Bearer", never a cookie.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: element.getAttribute("data-spec-url"),
    domNode: element,
    deepLinking: true,
    persistAuthorization: false,
    withCredentials: false,
  });
})();
