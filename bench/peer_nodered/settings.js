// Node-RED settings for the bench peer: no editor, credentials in clear in the user folder
// (written by bench.peer for the run), the flow file given on the command line.
module.exports = {
    uiPort: parseInt(process.env.NODE_RED_PORT || "1880"),
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    flowFilePretty: true,
    logging: { console: { level: "warn", metrics: false, audit: false } },
};
