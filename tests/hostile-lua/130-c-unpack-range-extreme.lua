local x = table.unpack({}, math.mininteger, math.maxinteger) --!
