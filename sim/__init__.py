"""protest-exposure: how much of a protester's walk happens in view of cameras.

Module map (the arrows point one way: the CLI uses the core, never the reverse)

Core (arrays and graphs in, results out):
    geo            WGS84 <-> UTM 18N and New York City's bounds
    network        the walk network as arrays; routing matrices
    routing        shortest, least exposed and stochastic routes
    camera_model   camera classes, ranges and lenses (DORI levels)
    coverage       per-edge coverage pieces and their aggregation
    visibility     open space and isovists for the sightline model
    exposure       coverage of the network, of points and of routes
    crowding       Weidmann's speed-density relation, walking widths
    model          the simpy processes
    stats          summaries, bootstrap intervals, paired differences
    ranking        each camera's marginal contribution, greedy removal
Edges (files, data, scenario, output):
    datasets       data manifest, data directory, downloads, checksums
    records        reading tabular sources and reporting bad records
    cameras        camera layers from Amnesty, Ban the Scan, DOT, LinkNYC
    camera_edits   scenario camera removals and additions
    transit, sites subway exits and assembly sites
    city           the loaded city for one data directory
    scenario       the TOML schema and its validation
    runner         set-up shared by replications, the draws of each, running them
    tables         tidy tables: one row per protester, the crowd over time
    outputs        run folders, manifests, atomic writes
    report         a run's tables, summary, manifest and figures
    plot           figures (matplotlib, Agg)
    commands       the commands: run, data, route, compare, rank-cameras
    cli            the command line (run_sim.py): parsing, logging, errors to exit code 2
"""

__version__ = "0.1.0"
