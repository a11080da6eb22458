"""Reading and writing through the ports: queries, pagination, DataLoaders, cursors."""
