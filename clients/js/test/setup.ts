// The browser-storage project: IndexedDB (fake-indexeddb) beside the locks stand-in.
import "fake-indexeddb/auto";
import "./setup-locks.js";
