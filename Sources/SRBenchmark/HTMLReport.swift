import Foundation
import SRImage

/// `report.html`: one self-contained page (images inlined as PNG data URIs, no network): the
/// sortable results table, the sampler-study chart, and per image the LR input, every method's
/// output and the HR side by side on a detail crop with a synchronized zoom (hover any panel: all
/// panels of that image magnify the same spot), and a before/after slider between any two of them.
///
/// When loaded, the page's script records `data-images-total`, `data-images-loaded`,
/// `data-table-rows` and `data-ready` on `<body>`, which the headless-browser test reads.
public struct HTMLReport {
    public struct Panel {
        public var label: String
        public var image: Image
        /// Shown with nearest-neighbour magnification (the LR input).
        public var pixelated: Bool
        public init(label: String, image: Image, pixelated: Bool = false) {
            self.label = label
            self.image = image
            self.pixelated = pixelated
        }
    }

    public struct Entry {
        public var name: String
        public var crop: DetailCrop
        public var panels: [Panel]
        public init(name: String, crop: DetailCrop, panels: [Panel]) {
            self.name = name
            self.crop = crop
            self.panels = panels
        }
    }

    public var results: BenchmarkResults
    public var entries: [Entry]
    public var studyChart: String?

    public init(results: BenchmarkResults, entries: [Entry], studyChart: String? = nil) {
        self.results = results
        self.entries = entries
        self.studyChart = studyChart
    }

    static func escape(_ s: String) -> String { SamplerStudyChart.escapeXML(s) }

    static func dataURI(_ image: Image) throws -> String {
        "data:image/png;base64," + Data(try image.encoded(as: .png)).base64EncodedString()
    }

    /// The HTML document.
    public func html() throws -> String {
        var out: [String] = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
                             "<title>\(Self.escape("DiffusionSR benchmark: \(results.suite) ×\(results.scale)"))</title>",
                             "<style>\(Self.style)</style></head>", "<body>"]
        out.append("<h1>\(Self.escape("\(results.suite) ×\(results.scale)"))</h1>")
        out.append("<p>\(results.images.count) images; \(Self.escape(results.lowResolutionSource)). Click a column header to sort.</p>")
        out.append(table())
        out.append("<p class=\"note\">\(Self.escape(results.conventions))</p>")
        out.append("<ul class=\"note\">" + results.mainMethods.map { "<li><b>\(Self.escape($0.name))</b>: \(Self.escape($0.detail))</li>" }.joined() + "</ul>")
        if let studyChart {
            out.append("<h2>Sampler study</h2><p>Quality against time for one model: how many steps are worth paying for.</p>")
            out.append("<div class=\"chart\">\(studyChart)</div>")
        }
        out.append("<h2>Images</h2><p>Detail crops (the most textured window of each HR image). Hover a panel to zoom ×4; every panel of the image follows. The slider compares any two panels.</p>")
        for (index, entry) in entries.enumerated() { out.append(try section(entry, index: index)) }
        out.append("<p class=\"note\">Command: <code>\(Self.escape(results.command))</code></p>")
        out.append("<script>\(Self.script)</script></body></html>")
        return out.joined(separator: "\n") + "\n"
    }

    func table() -> String {
        let metrics = results.metrics
        var rows = ["<table id=\"results\"><thead><tr><th data-type=\"text\">Method</th>"
                    + metrics.map { "<th data-type=\"number\">\(Self.escape(BenchmarkResults.metricTitles[$0] ?? $0))</th>" }.joined()
                    + "<th data-type=\"number\">s/image</th><th data-type=\"number\">peak MiB</th></tr></thead><tbody>"]
        func cell(_ value: Double?, _ text: String) -> String {
            "<td data-value=\"\(value.map { $0.isFinite ? String($0) : ($0 > 0 ? "1e308" : "-1e308") } ?? "")\">\(Self.escape(text))</td>"
        }
        for method in results.mainMethods {
            rows.append("<tr data-method=\"\(Self.escape(method.name))\"><td>\(Self.escape(method.name))</td>"
                        + metrics.map { cell(method.mean[$0], BenchmarkResults.formatted(method.mean[$0], metric: $0)) }.joined()
                        + cell(method.secondsPerImage, BenchmarkResults.formattedSeconds(method.secondsPerImage))
                        + cell(method.peakMemoryMiB, BenchmarkResults.formattedMemory(method.peakMemoryMiB)) + "</tr>")
        }
        rows.append("</tbody></table>")
        return rows.joined(separator: "\n")
    }

    func section(_ entry: Entry, index: Int) throws -> String {
        let displayWidth = min(max(entry.crop.width, 192), 320)
        var figures: [String] = []
        for (panelIndex, panel) in entry.panels.enumerated() {
            let scores = results.mainMethods.first { $0.name == panel.label }?.images.first { $0.image == entry.name }?.scores
            let caption = scores?.psnr.map { String(format: "%@ — %.2f dB", panel.label, $0) } ?? panel.label
            figures.append("<figure><div class=\"panel\" style=\"width:\(displayWidth)px\"><img data-panel=\"\(panelIndex)\" data-label=\"\(Self.escape(panel.label))\""
                           + (panel.pixelated ? " class=\"pixelated\"" : "") + " src=\"\(try Self.dataURI(panel.image))\" alt=\"\(Self.escape(panel.label))\"></div>"
                           + "<figcaption>\(Self.escape(caption))</figcaption></figure>")
        }
        let options = entry.panels.enumerated().map { "<option value=\"\($0.offset)\">\(Self.escape($0.element.label))</option>" }.joined()
        return """
            <section class="image" id="image-\(index)"><h3>\(Self.escape(entry.name)) <small>crop x \(entry.crop.x), y \(entry.crop.y), \(entry.crop.width)×\(entry.crop.height) HR px</small></h3>
            <div class="strip">\(figures.joined())</div>
            <div class="compare-controls">before <select class="before-choice">\(options)</select> after <select class="after-choice">\(options)</select></div>
            <div class="compare" style="width:\(displayWidth * 2)px"><img class="after" alt="after"><img class="before" alt="before"><input type="range" min="0" max="100" value="50" aria-label="before/after split"></div>
            </section>
            """
    }

    static let style = """
        body{font-family:sans-serif;margin:24px;color:#222;max-width:1800px}
        table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}
        th{cursor:pointer;background:#f3f3f3}th:first-child,td:first-child{text-align:left}
        th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}.note{color:#555;font-size:13px}
        .strip{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}figcaption{font-size:12px;text-align:center}
        .panel{overflow:hidden;aspect-ratio:1/1;border:1px solid #ccc}.panel img{width:100%;height:100%;object-fit:contain;display:block;transition:transform .05s}
        img.pixelated,.compare img{image-rendering:pixelated}
        .compare{position:relative;aspect-ratio:1/1;margin-top:8px;border:1px solid #ccc}
        .compare img{position:absolute;top:0;left:0;width:100%;height:100%;object-fit:contain}
        .compare input{position:absolute;bottom:4px;left:5%;width:90%}
        """

    static let script = """
        (function(){
          document.querySelectorAll('#results th').forEach(function(th,col){th.addEventListener('click',function(){
            var body=document.querySelector('#results tbody'),rows=Array.from(body.rows),asc=!th.classList.contains('asc');
            document.querySelectorAll('#results th').forEach(function(h){h.classList.remove('asc','desc')});th.classList.add(asc?'asc':'desc');
            rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];var r=th.dataset.type==='number'
              ?(parseFloat(x.dataset.value||'NaN')||0)-(parseFloat(y.dataset.value||'NaN')||0):x.textContent.localeCompare(y.textContent);return asc?r:-r;});
            rows.forEach(function(r){body.appendChild(r)});});});
          document.querySelectorAll('section.image').forEach(function(section){
            var imgs=section.querySelectorAll('.panel img');
            section.querySelectorAll('.panel').forEach(function(panel){
              panel.addEventListener('mousemove',function(e){var r=panel.getBoundingClientRect();
                var o=((e.clientX-r.left)/r.width*100)+'% '+((e.clientY-r.top)/r.height*100)+'%';
                imgs.forEach(function(i){i.style.transformOrigin=o;i.style.transform='scale(4)';});});
              panel.addEventListener('mouseleave',function(){imgs.forEach(function(i){i.style.transform='';});});});
            var before=section.querySelector('img.before'),after=section.querySelector('img.after'),range=section.querySelector('.compare input');
            var bSel=section.querySelector('.before-choice'),aSel=section.querySelector('.after-choice');
            bSel.value='1';aSel.value=String(imgs.length-2>1?imgs.length-2:imgs.length-1);
            function update(){before.src=imgs[+bSel.value].src;after.src=imgs[+aSel.value].src;before.style.clipPath='inset(0 '+(100-range.value)+'% 0 0)';}
            bSel.addEventListener('change',update);aSel.addEventListener('change',update);range.addEventListener('input',update);update();
          });
          function status(){var all=Array.from(document.images),ok=all.filter(function(i){return i.complete&&i.naturalWidth>0});
            document.body.dataset.imagesTotal=all.length;document.body.dataset.imagesLoaded=ok.length;
            document.body.dataset.tableRows=document.querySelectorAll('#results tbody tr').length;document.body.dataset.ready='1';}
          window.addEventListener('load',function(){status();setTimeout(status,300);});
        })();
        """
}
