pools {}
--[[ never closed

 --!