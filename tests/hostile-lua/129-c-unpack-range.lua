local x = table.unpack({}, 1, 1e8) --!
