// GraphiQL for testrun-gateway: React, GraphiQL and the explorer plugin are loaded from the
// app (see graphiql.html); the server fills in the headers and the example tabs.
const config = JSON.parse(document.getElementById("graphiql-config").textContent);
const fetcher = GraphiQL.createFetcher({ url: config.url });
const explorer = GraphiQLPluginExplorer.explorerPlugin();

function App() {
  return React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    visiblePlugin: explorer,
    defaultTabs: config.tabs,
    defaultHeaders: config.headers,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    // The key comes from the server on every load; it is not written to the browser.
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
