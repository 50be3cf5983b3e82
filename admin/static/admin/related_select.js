// Search-as-you-type selects for MarketModelView.ajax_related fields (admin/related_select.py).
// Each <select class="market-ajax-select" data-related-url="..."> holds only its current value; select2
// (FAB's copy, 4.0.x) asks the view's related/<column>/ endpoint for up to 20 matches of what is typed.
// Search filters are added by FAB's ab_filters.js after load, so new selects are picked up as they appear.
(function ($) {
    "use strict";

    function filterValueFromUrl(select) {
        // an active list filter (?_flt_0_product=12) is re-rendered without its option: restore it
        var name = select.getAttribute("name") || "";
        if (name.indexOf("_flt_") !== 0) { return null; }
        return new URLSearchParams(window.location.search).get(name);
    }

    function init(select) {
        if (select.dataset.marketAjaxReady) { return; }
        select.dataset.marketAjaxReady = "1";
        var $select = $(select);
        var url = select.getAttribute("data-related-url");
        $select.select2({
            theme: "bootstrap",
            width: "100%",
            allowClear: true,
            placeholder: select.getAttribute("data-placeholder") || "Type to search",
            minimumInputLength: 0,
            ajax: {
                url: url,
                dataType: "json",
                delay: 250,
                cache: true,
                data: function (params) { return {q: params.term || "", page: params.page || 1}; },
                processResults: function (data) { return data; }
            }
        });
        // select2 4.0.13 under jQuery >= 3.6 no longer focuses its search box when it opens
        $select.on("select2:open", function () {
            var box = document.querySelector(".select2-container--open .select2-search__field");
            if (box) { box.focus(); }
        });
        var wanted = filterValueFromUrl(select);
        if (wanted && !$select.val()) {
            $.getJSON(url, {q: wanted}).done(function (data) {
                $.each(data.results, function (_, row) {
                    if (String(row.id) === wanted) {
                        $select.append(new Option(row.text, row.id, true, true)).trigger("change");
                    }
                });
            });
        }
    }

    function scan(root) {
        $(root).find("select.market-ajax-select").addBack("select.market-ajax-select").each(function () {
            init(this);
        });
    }

    $(function () {
        scan(document);
        new MutationObserver(function (mutations) {
            mutations.forEach(function (m) {
                m.addedNodes.forEach(function (node) {
                    if (node.nodeType === 1) { scan(node); }
                });
            });
        }).observe(document.body, {childList: true, subtree: true});
    });
})(jQuery);
