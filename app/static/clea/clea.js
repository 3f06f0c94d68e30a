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
                placeholder: el.data("hint") || "",
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
    // Select2 names its combobox after the selected text only ("Select Value", "FORMAPLUS"):
    // name it after the field's <label> too, for screen readers (axe: aria-input-field-name).
    function labelSelect2() {
        $("select.select2-hidden-accessible[id]").each(function () {
            var label = $("label[for='" + this.id + "']").first();
            var rendered = $("#select2-" + this.id + "-container");
            if (!label.length || !rendered.length) { return; }
            var labelId = label.attr("id") || (this.id + "-label");
            label.attr("id", labelId);
            rendered.attr("aria-labelledby", labelId);
            rendered.closest(".select2-selection")
                .attr("aria-labelledby", labelId + " " + rendered.attr("id"));
        });
    }
    $(function () {
        initAjaxSelects();
        initRoleScopes();
        labelSelect2();  // after FAB's ab.js has turned .my_select2 into Select2
    });
})(jQuery);
/* Phone width. Bootstrap's collapse puts aria-expanded on the menu's <div> too, where ARIA does
   not allow it (axe: aria-allowed-attr): the toggle button alone carries the state. A table or
   chart wider than the screen scrolls inside its wrapper: the wrapper then takes the keyboard
   focus, so that arrows scroll it (axe: scrollable-region-focusable). */
(function ($) {
    "use strict";
    function focusableScrollers() {
        $(".table-responsive, .clea-chart").each(function () {
            if (this.scrollWidth > this.clientWidth + 1) {
                $(this).attr("tabindex", "0");
            } else {
                $(this).removeAttr("tabindex");
            }
        });
    }
    $(function () {
        $(".clea-navbar .navbar-collapse").on("shown.bs.collapse hidden.bs.collapse", function () {
            $(this).removeAttr("aria-expanded");
        });
        focusableScrollers();
        var pending = null;
        $(window).on("resize", function () {
            window.clearTimeout(pending);
            pending = window.setTimeout(focusableScrollers, 150);
        });
        $("details").on("toggle", focusableScrollers);
    });
})(jQuery);
/* Notifications and shipments pages: the "select all" checkbox. */
(function ($) {
    "use strict";
    $(function () {
        $("#clea-select-all").on("change", function () {
            $("input.clea-select").prop("checked", this.checked);
        });
    });
})(jQuery);
/* Forms that need a confirmation (the bin). */
(function ($) {
    "use strict";
    $(function () {
        $("form.clea-confirm").on("submit", function (event) {
            if (!window.confirm($(this).data("confirm"))) { event.preventDefault(); }
        });
    });
})(jQuery);
/* Evaluation grid: the running "n / 28 acquis". */
(function ($) {
    "use strict";
    $(function () {
        var grid = $("#clea-grille");
        if (!grid.length) { return; }
        grid.on("change", "input[type=radio]", function () {
            $("#clea-compteur").text(grid.find("input.clea-acquis:checked").length);
        });
    });
})(jQuery);
/* Stats: the export may take a while on large perimeters; show progress until the download
   starts (the server sets the cookie clea_export=<jeton> on the file's response). */
(function ($) {
    "use strict";
    $(function () {
        $("a.clea-export-link").on("click", function (event) {
            var link = this, box = $(link).closest(".clea-export"),
                progress = box.find(".clea-export-progress"),
                jeton = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
            event.preventDefault();
            progress.prop("hidden", false);
            box.find("a").addClass("disabled").attr("aria-disabled", "true");
            window.location.href = link.href + (link.href.indexOf("?") < 0 ? "?" : "&") + "jeton=" + jeton;
            var timer = window.setInterval(function () {
                if (document.cookie.indexOf("clea_export=" + jeton) >= 0) {
                    window.clearInterval(timer);
                    progress.prop("hidden", true);
                    box.find("a").removeClass("disabled").removeAttr("aria-disabled");
                }
            }, 500);
        });
    });
})(jQuery);
