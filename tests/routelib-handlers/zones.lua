-- down: 4
pools {
    set_z = {
        west = { backends = { "{b4}", "{b5}" } },
        east = { backends = { "{b6}" } },
        north = { backends = { "{b7}", "{b0}" } },
    },
}
routes { default = route_prefer { children = "set_z", first = "west" } }
