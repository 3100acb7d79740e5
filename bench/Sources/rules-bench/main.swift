// Events per second through the rule engine holding 100 rules (see RulesBenchmark for the
// rule set). Bounded by the event count. Usage: rules-bench [events] [rules]
import NoexRules

let args = CommandLine.arguments
let events = args.count > 1 ? Int(args[1]) ?? 200_000 : 200_000
let rules = args.count > 2 ? Int(args[2]) ?? 100 : 100
_ = RulesBenchmark.run(ruleCount: rules, events: min(events, 10_000))  // warm-up
let r = RulesBenchmark.run(ruleCount: rules, events: events)
print("rules.events_per_s: \(Int(r.eventsPerSecond))")
print("rules.rule_runs_per_event: \(Double(r.rulesExecuted) / Double(max(r.events, 1)))")
print("rules.pipeline_events: \(r.eventsProcessed)")
print("rules.deliveries: \(r.deliveries)")
