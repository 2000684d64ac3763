; Inno Setup script for the Windows terminal. Build on Windows after `make package`
; (or the steps of .github/workflows/windows.yml):  iscc packaging\windows\caja-isseg.iss
; Installs the bundle under Program Files, the till's data machine-wide under
; %PROGRAMDATA%\ISSEG\caja-isseg (every cashier's Windows account shares one database and
; one outbox: the data folder is writable by the local Users group), and shortcuts.
#define AppVersion "0.1.0"

[Setup]
AppId={{6B7F6C2E-4C1B-4C39-9F5E-1A7C0D2B5E10}
AppName=Caja ISSEG
AppVersion={#AppVersion}
AppPublisher=ISSEG
DefaultDirName={autopf}\Caja ISSEG
DefaultGroupName=Caja ISSEG
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=caja-isseg-{#AppVersion}-instalador
SetupIconFile=caja-isseg.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
WizardStyle=modern

[Languages]
Name: "es"; MessagesFile: "compiler:Languages\Spanish.isl"

[Files]
Source: "..\..\dist\caja-isseg\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Dirs]
; Machine-wide data: the database, the outbox, the print queue and the token.
Name: "{commonappdata}\ISSEG\caja-isseg"; Permissions: users-modify

[Icons]
Name: "{group}\Caja ISSEG (cajero)"; Filename: "{app}\isseg-farmacia.exe"; Parameters: "caja"
Name: "{group}\Caja ISSEG (gerente)"; Filename: "{app}\isseg-farmacia.exe"; Parameters: "gerente"
Name: "{group}\Diagnóstico de la caja"; Filename: "{cmd}"; Parameters: "/k ""{app}\isseg-farmacia-consola.exe"" diagnostico"
Name: "{commondesktop}\Caja ISSEG"; Filename: "{app}\isseg-farmacia.exe"; Parameters: "caja"

[Run]
Filename: "{app}\isseg-farmacia.exe"; Parameters: "caja"; Description: "Abrir la caja"; Flags: postinstall nowait skipifsilent
