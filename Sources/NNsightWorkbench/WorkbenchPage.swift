import NNsightVisualization

/// The workbench's one page: four panels (logit lens, patching, attention, generation), each a small form
/// whose results stream in as server-sent events. No external resource: it works offline.
enum WorkbenchPage {
    static func html(modelName: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>nnsight workbench</title>
        <style>
        \(HTMLPage.css)
        section { background: #ffffff; border: 1px solid #dddddd; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px 0; }
        h2 { font-size: 16px; margin: 0 0 8px 0; }
        label { margin-right: 12px; }
        input[type=text] { width: 320px; }
        .status { color: #555555; margin: 6px 0; min-height: 1em; }
        .message { color: #b2182b; font-weight: bold; margin: 6px 0; min-height: 1em; }
        .result { overflow-x: auto; }
        </style>
        </head>
        <body>
        <h1>nnsight workbench</h1>
        <p class="subtitle">Model: \(Markup.escape(modelName))</p>

        <section id="lens">
        <h2>Logit lens</h2>
        <form id="lens-form">
        <label>Prompt <input type="text" id="lens-prompt" value="The capital of France is"></label>
        <button type="submit" id="lens-run">Run</button>
        </form>
        <div class="status" id="lens-status"></div><div class="message" id="lens-message"></div>
        <div class="result" id="lens-result"></div>
        </section>

        <section id="patch">
        <h2>Activation patching</h2>
        <form id="patch-form">
        <label>Source <input type="text" id="patch-source" value="The capital of Italy is"></label>
        <label>Target <input type="text" id="patch-target" value="The capital of France is"></label><br>
        <label>Metric <select id="patch-metric">
          <option value="auto">auto: logit(source answer) − logit(target answer)</option>
          <option value="logit-difference">logit difference of the answers below</option>
          <option value="probability">probability of the answer below</option>
        </select></label>
        <label>Answer <input type="text" id="patch-answer" style="width:80px" placeholder="top of source"></label>
        <label>Other <input type="text" id="patch-other" style="width:80px" placeholder="top of target"></label>
        <button type="submit" id="patch-run">Run</button>
        </form>
        <div class="status" id="patch-status"></div><div class="message" id="patch-message"></div>
        <div class="result" id="patch-result"></div>
        </section>

        <section id="attention">
        <h2>Attention patterns</h2>
        <form id="attention-form">
        <label>Prompt <input type="text" id="attention-prompt" value="The capital of France is"></label>
        <label>Layer <input type="text" id="attention-layer" value="0" style="width:40px"></label>
        <label>Head <input type="text" id="attention-head" value="all" style="width:40px"></label>
        <button type="submit" id="attention-run">Show</button>
        </form>
        <div class="status" id="attention-status"></div><div class="message" id="attention-message"></div>
        <div class="result" id="attention-result"></div>
        </section>

        <section id="generate">
        <h2>Generation</h2>
        <form id="generate-form">
        <label>Prompt <input type="text" id="generate-prompt" value="The capital of France is"></label>
        <label>New tokens <input type="text" id="generate-max" value="20" style="width:50px"></label>
        <button type="submit" id="generate-run">Generate</button>
        </form>
        <div class="status" id="generate-status"></div><div class="message" id="generate-message"></div>
        <div class="result" id="generate-result"></div>
        </section>

        <script>
        \(script)
        </script>
        </body>
        </html>

        """
    }

    /// Each form opens an EventSource on its endpoint; `picture` replaces the result, `status`
    /// and `failure` fill the lines above it, `done` closes the stream. `data-state` on the
    /// section says where a run stands: running, done or failed.
    static let script = """
        function run(name, path, fields) {
          const section = document.getElementById(name);
          const status = document.getElementById(name + '-status');
          const message = document.getElementById(name + '-message');
          const result = document.getElementById(name + '-result');
          if (section.source) { section.source.close(); }
          const query = fields.map(f => encodeURIComponent(f) + '=' + encodeURIComponent(document.getElementById(name + '-' + f).value)).join('&');
          message.textContent = '';
          status.textContent = 'starting';
          result.innerHTML = '';
          section.dataset.state = 'running';
          const source = new EventSource(path + '?' + query);
          section.source = source;
          source.addEventListener('picture', e => { result.innerHTML = e.data; });
          source.addEventListener('status', e => { status.textContent = e.data; });
          source.addEventListener('failure', e => {
            message.textContent = e.data; status.textContent = 'failed'; section.dataset.state = 'failed'; source.close();
          });
          source.addEventListener('done', () => { status.textContent = 'done'; section.dataset.state = 'done'; source.close(); });
          source.onerror = () => {
            if (section.dataset.state === 'running') {
              message.textContent = 'The connection to the workbench was lost.'; section.dataset.state = 'failed';
            }
            source.close();
          };
        }
        document.getElementById('lens-form').addEventListener('submit', e => { e.preventDefault(); run('lens', '/lens', ['prompt']); });
        document.getElementById('patch-form').addEventListener('submit', e => {
          e.preventDefault(); run('patch', '/patch', ['source', 'target', 'metric', 'answer', 'other']);
        });
        document.getElementById('attention-form').addEventListener('submit', e => {
          e.preventDefault(); run('attention', '/attention', ['prompt', 'layer', 'head']);
        });
        document.getElementById('generate-form').addEventListener('submit', e => {
          e.preventDefault(); run('generate', '/generate', ['prompt', 'max']);
        });
        """
}
