"""protest-exposure: how much of a protester's walk happens in view of cameras.

Module map (the arrows point one way: the CLI uses the core, never the reverse; a test checks
that importing the core loads no plotting, OSM, GIS or CLI module and that no import cycle exists)

Core (arrays and graphs in, results out):
    geo            WGS84 <-> UTM 18N and New York City's bounds
    network        the walk network as arrays; routing matrices
    routing        shortest, least exposed and stochastic routes
    camera_model   camera classes, ranges and lenses (DORI levels)
    coverage       per-edge coverage pieces and their aggregation
    visibility     open space and isovists for the sightline model
    camera_merge   one site where two layers hold the same place (max count, not sum)
    camera_scope   which camera sites can see the study area
    site_area      the site as an area (its ring of streets, or a disk); standing points
    access         the first and last metres as virtual edges after the network's
    origin_weights exits weighted per exit, per station, by ridership; split by distance
    exposure       coverage of the network, of points and of routes
    crowding       Weidmann's speed-density relation, walking widths
    model          the simpy processes of one replication (Crowd)
    kernel         the compiled engine: the same replication in one numba event loop
    engines        the choice of engine (scenario key ``engine``): kernel or simpy reference
    setup          what every replication shares: site, origins, edited cameras, coverage, routes
    draws          one replication's random draws: origins, departures, speeds, standing points
    undercount     Amnesty's undercount drawn per replication
    runner         one replication from its seed; every replication, in processes
    multisite      several sites at once: one set-up per site, merged into one crowd
    sensitivity    SALib designs (Morris, Sobol) over declared parameters, and their indices
    columns        the one schema of output columns (agent table, summaries, headlines)
    tables         tidy tables: one row per protester, the crowd over time
    stats          summaries, bootstrap intervals, paired differences
    ranking        each camera's marginal contribution, greedy removal
    line_exposure  coverage of lines drawn anywhere, straight from camera sites
    city_area      the five boroughs and their land; checks on drawn paths
    equity         effective cameras per tract, the borough logit, site neighbourhoods
    usage          traversals and seconds in view per street, protesters per route
    places         stations, exits and sites matched by the names people type
    progress       progress of slow steps (off unless the CLI turns it on)
Edges (files, data, scenario, output):
    cache          the cache folder; entries that load as data only (npz), checksummed
    datasets       data manifest, data folder search order, downloads, checksums
    textfiles      reading a user's text file: one-line errors for binary, Latin-1, empty, folders
    records        reading tabular sources and reporting bad records
    cameras        camera layers from Amnesty, Ban the Scan, DOT, LinkNYC; the sources registry
    camera_edits   scenario camera removals and additions
    transit, sites subway exits and assembly sites
    ridership      MTA ridership per station complex
    footprints     complete building footprints (DoITT) and the open space they leave
    camera_counts  Amnesty's per-intersection counts given to camera sites, each once
    camera_account counting, merging and scoping a scenario's cameras, with an account
    inputs         a run's inputs loaded once and frozen, with every file's checksum
    scenario       typed scenario sections, base = inheritance, override(), validation
    route_input    places by name, id or coordinates, and path files, for the route command
    networks       which walk network: the bundle's, another OSM XML file, a place or bbox
    census         census tracts, the state shoreline, borough boundaries, the city's area
    outputs        run folders, manifests, atomic writes
    preflight      checks before any work: option ranges, workers, memory, the outputs folder
    report         writers: a run's folder, a route, a comparison, a ranking
    layers         GIS layers: streets, routes, site area, edited cameras; GeoPackage
    evidence       a finished run or comparison folder read back, figures tagged by source
    basemap        borough outlines and water under a report's maps
    report_text    the report's words, every number read from the folder's files
    report_figures static report figures: maps with scale bar and north arrow, distributions
    report_html    report.html: self-contained page with an offline Leaflet map
    report_pdf     report.pdf: the report for print (WeasyPrint)
    report_build   writing report.html, report.pdf and layers.gpkg, all or none
    report_neighbourhood  where a run's site stands among the protest sites (tract method)
    plot           figures (matplotlib, Agg)
    readout        what compare prints and records: labels, matched draws, README units
    tasks          task keys and seeds; each task's result on disk, written atomically
    sweep          variants x replications as tasks, run resumably; tables assembled by key
    pool           where tasks run: this process, forked processes, or a Dask cluster
    worker         what a worker keeps between tasks (inputs, set-ups); the replication task
    batch          run, [sweep], compare and sensitivity as one set of tasks in one pool
    sweep_report   writers: a sweep's tables, a sensitivity folder and its ranking figure
    commands       the commands: parse, load, run, write (run, data, places, route, ...)
    route_path     route --path: a drawn walk scored without a walk network
    equity_report  the equity command; equity_figures its map and scatter plots
    cli            the command line (run_sim.py): parsing, logging, errors to exit code 2
"""

__version__ = "0.1.0"
