// Run by docker-compose.yml's mongo-init (mongosh, as root, on mongo-1). Idempotent: every
// `docker compose up` runs it again and it changes nothing that is already in place.
//
// 1. Initiates replica set rs0 with its three members, if it is not initiated yet.
// 2. Waits (up to two minutes) until mongo-1 is primary (it has the highest priority, so it
//    is elected whenever it is up; users can only be created on the primary).
// 3. Creates the services' user `progress` (readWrite on the `progress` database only) if it
//    is missing, with MONGO_APP_PASSWORD; an existing user's password is left as it is.

const members = ["mongo-1:27017", "mongo-2:27017", "mongo-3:27017"];

try {
  rs.status();
} catch (error) {
  rs.initiate({
    _id: "rs0",
    members: members.map((host, i) => ({ _id: i, host: host, priority: i === 0 ? 2 : 1 })),
  });
}

const deadline = Date.now() + 120 * 1000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) {
    throw new Error("mongo-1 did not become the primary of rs0 within two minutes");
  }
  sleep(1000);
}

const progress = db.getSiblingDB("progress");
if (progress.getUser("progress") === null) {
  progress.createUser({
    user: "progress",
    pwd: process.env.MONGO_APP_PASSWORD,
    roles: [{ role: "readWrite", db: "progress" }],
    writeConcern: { w: "majority" },
  });
}
