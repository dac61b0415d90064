// Package conformance runs DingTalk's own Node SDKs (@alicloud/dingtalk and
// dingtalk-robot-sender), unchanged, against the simulator (internal/dtsim),
// so the simulator is held to DingTalk's wire format rather than to what our
// Go client sends. The package has only tests; run.mjs is the Node side and
// scripts/conformance.sh installs its npm dependencies.
package conformance
