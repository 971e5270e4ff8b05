// Starts Swagger UI on /docs (api/docs.py). No request leaves the app: the OpenAPI document
// comes from the app itself, and the base layout has no online-validator badge (validatorUrl
// null keeps it off should the layout change).
window.addEventListener("load", function () {
    var box = document.getElementById("swagger-ui");
    window.ui = SwaggerUIBundle({
        url: box.getAttribute("data-openapi-url"),
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        persistAuthorization: false
    });
});
