-- down: 6
pools {
    reads = { backends = { "{b5}", "{b6}" } },
    writes = { backends = { "{b5}", "{b6}", "{b7}" } },
}
routes {
    map = { rw = route_rw { child_read = "reads", child_write = "writes" } },
    default = route_rw { child_read = "writes", child_write = "writes" },
}
