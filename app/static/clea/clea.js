/* Plateforme CléA: progressive enhancements (everything works without them). */
(function ($) {
    "use strict";
    // Search-as-you-type selects served by /lookup (perimeter-filtered on the server).
    function initAjaxSelects() {
        $("select.clea-ajax-select").each(function () {
            var el = $(this);
            el.select2({
                theme: "bootstrap",
                allowClear: true,
                placeholder: el.data("placeholder") || "",
                minimumInputLength: 0,
                ajax: {
                    url: el.data("url"),
                    dataType: "json",
                    delay: 250,
                    data: function (params) { return { q: params.term || "" }; },
                    processResults: function (data) { return data; }
                }
            });
        });
    }
    // User form: show only the perimeter field the chosen role needs.
    function initRoleScopes() {
        var role = $("select#role");
        if (!role.length || !role.data("scopes")) { return; }
        var scopes = {};
        String(role.data("scopes")).split(",").forEach(function (pair) {
            var parts = pair.split(":"); scopes[parts[0]] = parts[1];
        });
        var fields = ["reseau", "organisme", "etablissement", "certificateur"];
        function update() {
            var scope = scopes[role.val()] || "";
            fields.forEach(function (f) {
                var row = $("#" + f + "_id").closest("tr");
                if (f === scope) { row.show(); } else { row.hide(); }
            });
        }
        role.on("change", update);
        update();
    }
    $(function () {
        initAjaxSelects();
        initRoleScopes();
    });
})(jQuery);
