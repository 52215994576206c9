// Initiates the single-member replica set "rs0" used by deploy/compose.yaml. A replica set (not
// a standalone server) is what production runs: retryable writes and majority write concern.
try {
  rs.status();
} catch (e) {
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongodb:27017" }] });
}
