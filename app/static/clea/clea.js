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
/* Notifications and shipments pages: the "select all" checkbox. */
(function ($) {
    "use strict";
    $(function () {
        $("#clea-select-all").on("change", function () {
            $("input.clea-select").prop("checked", this.checked);
        });
    });
})(jQuery);
/* A refused form: its error summary takes the focus (screen readers read it, the keyboard
   starts there); each link of the summary moves the focus to its field. */
(function ($) {
    "use strict";
    window.cleaFocusErrors = function (root) {
        var summary = $(root || document).find(".clea-error-summary").filter(":visible").first();
        if (summary.length) { summary.trigger("focus"); }
        return summary.length > 0;
    };
    $(document).on("click", ".clea-error-summary a.clea-error-link", function (event) {
        var target = document.getElementById(this.getAttribute("href").slice(1));
        if (!target) { return; }
        event.preventDefault();
        var box = $(target).next(".select2").find(".select2-selection")[0];  // a Select2 field
        var focusable = box || target;
        focusable.scrollIntoView({ block: "center" });
        focusable.focus();
    });
    $(function () { window.cleaFocusErrors(); });
})(jQuery);
/* « Mon profil » (user menu): the pop-up loads the profile form alone (?fragment=1) and posts
   its forms in place; the answer (the form with its errors, or with its success message)
   replaces the pop-up's body. Without JavaScript the link opens the /profil/ page. */
(function ($) {
    "use strict";
    $(function () {
        var modal = $("#clea-profil-modal");
        if (!modal.length) { return; }
        var body = modal.find(".modal-body");
        function fill(html) {
            body.html(html);
            if (!window.cleaFocusErrors(body)) {
                body.find(".clea-profil-succes").trigger("focus");
            }
        }
        $(document).on("click", "a.clea-profil-link", function (event) {
            var link = this;
            event.preventDefault();
            $.get(link.href, { fragment: "1" }).done(function (html) {
                body.html(html);
                modal.modal("show");
            }).fail(function () { window.location.href = link.href; });
        });
        // Escape closes it wherever the focus is (Bootstrap listens on the pop-up only).
        $(document).on("keydown", function (event) {
            if (event.key === "Escape" && modal.hasClass("in")) { modal.modal("hide"); }
        });
        modal.on("submit", "form", function (event) {
            var form = this;
            event.preventDefault();
            $.ajax({ url: form.action, method: "POST", data: $(form).serialize() + "&fragment=1" })
                .done(function (html) { fill(html); })
                .fail(function (xhr) {
                    if (xhr.status === 400) { fill(xhr.responseText); } else { form.submit(); }
                });
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
