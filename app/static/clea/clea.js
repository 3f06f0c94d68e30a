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
                    // a select that follows another (data-clea-suit: the établissements
                    // of the chosen organisme) sends that choice along
                    data: function (params) {
                        var args = { q: params.term || "" };
                        var suit = el.data("clea-suit");
                        if (suit && $("#" + suit).val()) { args.parent = $("#" + suit).val(); }
                        return args;
                    },
                    processResults: function (data) { return data; }
                }
            });
        });
    }
    // A new organisme: the établissement chosen for the former one no longer applies.
    $(document).on("change", "select", function () {
        var id = this.id;
        if (!id) { return; }
        $("select[data-clea-suit='" + id + "']").each(function () {
            $(this).val(null).trigger("change");
        });
    });
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
    // Opening a Select2 puts the cursor in its search box (Select2 4.0 with jQuery 3.6 leaves
    // it on the closed box), so what the user types searches. Enter picks a value only once
    // the user has typed a search or moved to an option (arrows, mouse): before, typing with
    // the box unfocused then Enter picked the first option of the list, unseen.
    var chosenByUser = false;
    function focusSearchOnOpen() {
        $(document).on("select2:open", function (event) {
            chosenByUser = false;
            var select = $(event.target);
            window.setTimeout(function () {
                // the open dropdown (attached to <body>), or the inline box of a multiple select
                var field = $(".select2-container--open .select2-search--dropdown .select2-search__field");
                if (!field.length) { field = select.next(".select2").find(".select2-search__field"); }
                if (field.length) { field.get(0).focus(); }
                // Select2 highlights the first option by itself: do not show it as chosen
                // until the user types or moves (clea.css).
                $(".select2-container--open.select2-dropdown, .select2-container--open .select2-dropdown")
                    .closest(".select2-container").addClass("clea-s2-untouched");
            }, 0);
        });
        function touched() {
            chosenByUser = true;
            $(".clea-s2-untouched").removeClass("clea-s2-untouched");
        }
        $(document).on("mousemove", ".select2-results", touched);
        $(document).on("input", ".select2-search__field", function () {
            if (String($(this).val() || "").trim()) { touched(); }
        });
        document.addEventListener("keydown", function (event) {
            var target = $(event.target);
            var inSearch = target.is(".select2-search__field");
            var onOpenBox = target.is(".select2-selection")
                && target.closest(".select2-container").hasClass("select2-container--open");
            if (!inSearch && !onOpenBox) { return; }
            if (/^(ArrowUp|ArrowDown|PageUp|PageDown|Home|End)$/.test(event.key)) {
                touched();
            } else if (event.key === "Enter" && !chosenByUser
                       && !(inSearch && String(target.val() || "").trim())) {
                event.preventDefault();
                event.stopPropagation();  // capture phase: Select2 never sees this Enter
            }
        }, true);
    }
    // The bin of a list row: the modal asks the question naming the record, then posts the
    // list's CSRF-protected delete form to the row's URL.
    function initDeleteButtons() {
        var url = null;
        $(document).on("click", "a.clea-delete", function (event) {
            event.preventDefault();
            url = $(this).data("url");
            $("#modal-confirm .modal-text").text($(this).data("question"));
            $("#modal-confirm").modal("show");
        });
        $("#modal-confirm").on("hidden.bs.modal", function () { url = null; });
        $(document).on("click", "#modal-confirm-ok", function (event) {
            if (!url) { return; }
            event.preventDefault();
            var form = $("#delete_form").first();
            if (!form.length) { form = $("#action_form").first(); }
            form.attr("action", url).trigger("submit");
        });
    }
    // FAB's ab.js puts the icon buttons' titles into Bootstrap tooltips shown inside ".row",
    // which our pages do not have: the eye, pencil and bin showed no word on hover or focus.
    function initTooltips() {
        $("a[data-original-title]").tooltip("destroy")
            .tooltip({container: "body", placement: "bottom"});
    }
    $(function () {
        initTooltips();
        initAjaxSelects();
        initRoleScopes();
        labelSelect2();  // after FAB's ab.js has turned .my_select2 into Select2
        focusSearchOnOpen();
        initDeleteButtons();
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
/* Irreversible steps: one confirmation dialog for every form (or submit button) that carries
   data-confirm (the text), data-confirm-title, data-confirm-detail (a first line in bold) and
   data-confirm-ok (the confirm button's label).
   A confirmed submission carries confirme=1, which the server's confirmation step accepts
   (without JavaScript that step is a page of its own). Cancelling submits nothing. */
(function ($) {
    "use strict";
    $(function () {
        var dialog = document.getElementById("clea-confirm-dialog");
        if (!dialog) { return; }
        var title = document.getElementById("clea-confirm-titre"),
            text = document.getElementById("clea-confirm-texte"),
            detail = document.getElementById("clea-confirm-detail"),
            ok = document.getElementById("clea-confirm-ok"),
            cancel = document.getElementById("clea-confirm-annuler"),
            pending = null;
        function source(form, submitter) {
            if (submitter && submitter.hasAttribute("data-confirm")) { return submitter; }
            if (form.hasAttribute("data-confirm")) { return form; }
            return null;
        }
        function submit(form, submitter) {
            var flag = form.querySelector("input[name=confirme]");
            if (!flag) {
                flag = document.createElement("input");
                flag.type = "hidden";
                flag.name = "confirme";
                form.appendChild(flag);
            }
            flag.value = "1";
            if (form.requestSubmit) {
                form.setAttribute("data-clea-confirmed", "1");  // the submit event lets it pass
                form.requestSubmit(submitter || undefined);
                form.removeAttribute("data-clea-confirmed");
            } else {
                if (submitter && submitter.name) {
                    var copy = document.createElement("input");
                    copy.type = "hidden"; copy.name = submitter.name; copy.value = submitter.value;
                    form.appendChild(copy);
                }
                form.submit();
            }
        }
        $(document).on("submit", "form", function (event) {
            var form = this, submitter = event.originalEvent && event.originalEvent.submitter;
            if (form.getAttribute("data-clea-confirmed") === "1") { return; }
            var from = source(form, submitter);
            if (!from) { return; }
            event.preventDefault();
            if (typeof dialog.showModal !== "function") {  // very old browsers
                if (window.confirm(from.getAttribute("data-confirm"))) { submit(form, submitter); }
                return;
            }
            title.textContent = from.getAttribute("data-confirm-title") || title.getAttribute("data-default");
            text.textContent = from.getAttribute("data-confirm");
            detail.textContent = from.getAttribute("data-confirm-detail") || "";
            detail.hidden = !detail.textContent;
            ok.textContent = from.getAttribute("data-confirm-ok") || ok.getAttribute("data-default");
            ok.className = "btn " + (from.getAttribute("data-confirm-style") || "btn-primary");
            pending = {form: form, submitter: submitter, focus: submitter || document.activeElement};
            dialog.returnValue = "";
            dialog.showModal();
            cancel.focus();  // the safe choice has the focus: Enter or Escape cancels
        });
        dialog.addEventListener("close", function () {
            var job = pending;
            pending = null;
            if (!job) { return; }
            if (dialog.returnValue === "confirmer") { submit(job.form, job.submitter); }
            else if (job.focus && job.focus.focus) { job.focus.focus(); }
        });
    });
})(jQuery);
/* Evaluation grid: the running « n / 28 acquis (m / 28 renseignés) » and each domain's own
   count, updated on every click (saving is not needed); « Déplier / Replier tous les domaines ». */
(function ($) {
    "use strict";
    $(function () {
        var grid = $("#clea-grille");
        if (!grid.length) { return; }
        function count(scope) {
            var fieldsets = scope.find("fieldset.clea-sous-domaine");
            return {
                acquis: fieldsets.find("input.clea-acquis:checked").length,
                saisis: fieldsets.filter(function () {
                    return $(this).find("input[type=radio]:checked").length > 0;
                }).length,
                total: fieldsets.length
            };
        }
        var finaliser = grid.find("button[data-resultat]");
        function update() {
            var all = count(grid);
            $("#clea-compteur").text(all.acquis);
            $("#clea-renseignes").text(all.saisis);
            if (finaliser.length) {  // the outcome, said again in the confirmation dialog
                var text = all.saisis < all.total ? finaliser.attr("data-incomplet")
                    : finaliser.attr("data-resultat").replace("{res}", finaliser.attr(
                        all.acquis === all.total ? "data-valide" : "data-non-valide"));
                finaliser.attr("data-confirm-detail", text.replace("{n}", all.acquis)
                    .replace("{m}", all.saisis).replace(/\{t\}/g, all.total));
            }
            grid.find("details.clea-domaine").each(function () {
                var domaine = $(this), c = count(domaine);
                domaine.find(".clea-domaine-acquis").text(c.acquis);
                domaine.find(".clea-domaine-renseignes").text(c.saisis);
                domaine.find(".clea-domaine-compte").toggleClass("clea-domaine-complet",
                                                                c.acquis === c.total);
            });
        }
        grid.on("change click", "input[type=radio]", update);
        $(".clea-plis").prop("hidden", false).on("click", "button[data-plis]", function () {
            grid.find("details.clea-domaine").prop("open", $(this).data("plis") === "ouvrir");
        });
        update();
    });
})(jQuery);
/* « Mes exports »: the exports still waiting or running are polled (their JSON status
   route) every two seconds; the progress bar, the status and the line count follow, and
   « Télécharger » appears once the file is ready, without reloading the page. */
(function ($) {
    "use strict";
    $(function () {
        var rows = $("tr.clea-export-job"), modele = document.getElementById("clea-export-telecharger");
        function actif(row) {
            var statut = row.attr("data-statut");
            return statut === "en_attente" || statut === "en_cours";
        }
        function poll() {
            var pending = rows.filter(function () { return actif($(this)); });
            if (!pending.length) { return; }
            var count = pending.length;
            pending.each(function () {
                var row = $(this);
                $.getJSON(row.data("etat-url")).done(function (e) {
                    row.attr("data-statut", e.statut);
                    row.find(".clea-export-statut").text(e.statut_libelle);
                    row.find("progress").attr("value", e.pourcentage);
                    if (e.lignes_total !== null) {
                        row.find(".clea-export-lignes").text(
                            e.lignes_faites + " / " + e.lignes_total + " " +
                            (row.closest("table").data("lignes") || "lignes"));
                    }
                    var action = row.find(".clea-export-action");
                    if (e.pret && modele) {
                        var link = $(modele.content.firstElementChild.cloneNode(true));
                        link.attr("href", row.data("fichier-url"));
                        action.empty().append(link);
                    } else if (e.erreur) {
                        action.empty().append($("<span class=\"text-danger\"></span>").text(e.erreur));
                    }
                }).always(function () {
                    count -= 1;
                    if (count === 0) { window.setTimeout(poll, 2000); }
                });
            });
        }
        if (rows.length) { window.setTimeout(poll, 1000); }
    });
})(jQuery);
/* A tab pane of our own added to a FAB show page (data-clea-tab: its title) gets its tab
   in the page's first tab bar (organisme: « Habilitations »). */
(function ($) {
    "use strict";
    $(function () {
        var tabs = $("ul.nav-tabs").first();
        $(".tab-pane[data-clea-tab]").each(function () {
            var link = $("<a data-toggle=\"tab\"></a>").attr("href", "#" + this.id)
                .text($(this).data("clea-tab"));
            tabs.append($("<li></li>").append(link));
        });
    });
})(jQuery);
/* A standard motive chosen (« Motifs types »): its wording fills the motive's field, which
   the user may still adapt. Without JavaScript the choice alone is sent and recorded. */
(function ($) {
    "use strict";
    $(document).on("change", "select[data-clea-motif-cible]", function () {
        var texte = $(this).find("option:selected").data("texte");
        if (texte) {
            $(this).closest("form").find("[name='" + $(this).data("clea-motif-cible") + "']")
                .val(texte).trigger("input");
        }
    });
})(jQuery);
