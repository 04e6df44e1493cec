from mint_tui.cli import main

raise SystemExit(main())
