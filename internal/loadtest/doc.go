// Package loadtest is the load and page-weight benchmark of the public site,
// run against an intake server as a reporter's browser would use it. It
// prints figures and judges them against the goals; a missed goal is a
// measurement, never an error. cmd/hearken-load is its command line, and
// the intake's attack tests (cmd/intake) use its pieces.
//
// A run ([Run], configured by [Config]) has two parts:
//
//   - Page weight ([MeasurePages]): every public page with everything it
//     loads, as a visitor with an empty cache gets it. Each must fit
//     [PageBudget] in [RequestBudget] requests, with no script and nothing
//     from another host.
//   - The report flow at each concurrency ([Level]): fetch the form, send
//     it with the defaults a browser would ([FormDefaults]) and a message of
//     its own ([Message]), find the receipt on the answer ([FindReceipt]),
//     and for one in ten check it ([ShowsThread]). Throughput and latency
//     percentiles ([Summarize]) are judged against [GoalRate] and
//     [GoalP99] at [GoalConcurrency] ([Judge]).
//
// Optionally the flow runs while [StartSlowloris] holds [SiegeConns]
// connections open, trickling bytes, and [JudgeSiege] asks that every
// ordinary request is still answered within [SiegeP99] while the server's
// peak memory ([RSSSampler], from /proc) stays under [SiegeMaxRSS].
//
// It refuses a target that is not a loopback address unless told
// otherwise (Config.AllowRemote): a load test pointed at a school's live
// server by mistake would flood it.
package loadtest
